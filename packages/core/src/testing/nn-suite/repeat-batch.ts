// repeatBatch against tf.tile: the same values and the same gradient, with one Sum in the
// backward pass instead of a Slice and an Add per copy; a batch of 1; refused shapes.
import { beforeAll, describe, expect, test } from '@jest/globals';
import * as tf from '@tensorflow/tfjs-core';
import { registerGradients } from '../../nn/gradients';
import { repeatBatch } from '../../nn/repeat-batch';

const x = () =>
  tf.tensor4d(
    Array.from({ length: 24 }, (_, i) => Math.sin(i) * 3),
    [1, 2, 3, 4],
  );
// Made when a test runs, not on import: the backend is chosen by then.
const weights = () =>
  tf.tensor4d(
    Array.from({ length: 5 * 24 }, (_, i) => Math.cos(i)),
    [5, 2, 3, 4],
  );

/** Registers core's repeat-batch tests; the caller has selected the backend. */
export function repeatBatchSuite(): void {
  describe('repeatBatch', () => {
    beforeAll(() => {
      registerGradients();
    });

    test('equals tf.tile, values and gradient', () => {
      tf.tidy(() => {
        expect(repeatBatch(x(), 5).arraySync()).toEqual(tf.tile(x(), [5, 1, 1, 1]).arraySync());
        const viaTile = tf.grad((t: tf.Tensor) => tf.sum(tf.mul(tf.tile(t, [5, 1, 1, 1]), weights())))(x());
        const viaRepeat = tf.grad((t: tf.Tensor) => tf.sum(tf.mul(repeatBatch(t, 5), weights())))(x());
        expect(viaRepeat.shape).toEqual([1, 2, 3, 4]);
        Array.from(viaRepeat.dataSync()).forEach((v, i) => expect(v).toBeCloseTo(viaTile.dataSync()[i]!, 5));
      });
    });

    test('its backward pass is one reduction, not a slice and an add per copy', async () => {
      const info = await tf.profile(() => tf.grad((t: tf.Tensor) => tf.sum(tf.mul(repeatBatch(t, 32), tf.ones([32, 2, 3, 4]))))(x()));
      tf.dispose(info.result as tf.Tensor);
      const names = info.kernels.map((k) => k.name);
      expect(names.filter((n) => n === 'Slice')).toHaveLength(0);
      expect(names.length).toBeLessThan(20);
    });

    test('a batch of 1 is a copy; a tensor not shaped [1, ...] is refused', () => {
      tf.tidy(() => {
        expect(repeatBatch(x(), 1).shape).toEqual([1, 2, 3, 4]);
        expect(() => repeatBatch(tf.zeros([2, 3]), 4)).toThrow(/needs a \[1, \.\.\.\] tensor/);
      });
    });
  });
}
