// Core's rotary tests (testing/nn-suite/rotary.ts) on tfjs's cpu backend; backend plugins re-run
// the same suite with their kernels installed (backend-tfjs: src/nn-suite.*.test.ts).
import '@tensorflow/tfjs-backend-cpu';
import { beforeAll, describe, expect, test } from '@jest/globals';
import * as tf from '@tensorflow/tfjs-core';
import { describeNnSuite } from '../testing/nn-suite';
import { registerGradients } from './gradients';
import { applyRotary, RotaryEmbedding, rotateHalf } from './rotary';

describeNnSuite('cpu', { setup: () => tf.setBackend('cpu'), only: ['rotary'] });

describe('applyRotary against x·cos + rotate_half(x)·sin written with rotateHalf (cpu)', () => {
  beforeAll(async () => {
    await tf.setBackend('cpu');
    registerGradients();
  });

  // transformers' apply_rotary_pos_emb, op for op: q·cos + rotate_half(q)·sin with cos/sin unsqueezed at the head axis.
  const written = (x: tf.Tensor, cos: tf.Tensor, sin: tf.Tensor) =>
    tf.add(tf.mul(x, tf.expandDims(cos, 1)), tf.mul(rotateHalf(x), tf.expandDims(sin, 1)));
  const bits = (t: tf.Tensor) => Array.from(t.dataSync());

  test('values and gradients equal bit for bit (full and partial rotary)', () => {
    for (const [dim, headDim] of [
      [8, 8],
      [4, 8],
    ] as const) {
      const q = tf.randomNormal([2, 3, 5, headDim], 0, 1, 'float32', 1);
      const dy = tf.randomNormal([2, 3, 5, headDim], 0, 1, 'float32', 2);
      const { cos, sin } = new RotaryEmbedding({ dim, base: 100 }).cosSin(
        tf.tensor2d(
          [
            [0, 1, 2, 3, 4],
            [3, 1, 4, 1, 5],
          ],
          [2, 5],
          'int32',
        ),
      );
      const reference = (x: tf.Tensor) => {
        if (dim === headDim) return written(x, cos, sin);
        const [rot, pass] = tf.split(x, [dim, headDim - dim], -1);
        return tf.concat([written(rot, cos, sin), pass], -1);
      };
      const got = (x: tf.Tensor) => applyRotary(x, x, cos, sin)[0];
      expect(bits(got(q))).toEqual(bits(reference(q)));
      const grad = (f: (x: tf.Tensor) => tf.Tensor) => tf.grad((x: tf.Tensor) => tf.sum(tf.mul(f(x), dy)))(q);
      expect(bits(grad(got))).toEqual(bits(grad(reference)));
      // One element by hand: out[..., 0] = x0·cos0 − x_{d/2}·sin0, so d/dx_{d/2} of out[..., 0] is −sin0.
      const gOnly = tf.grad((x: tf.Tensor) => tf.sum(tf.slice(got(x), [1, 2, 3, 0], [1, 1, 1, 1])))(q);
      expect((gOnly.arraySync() as number[][][][])[1]![2]![3]![dim / 2]).toBeCloseTo(-(sin.arraySync() as number[][][])[1]![3]![0]!, 6);
    }
  });
});
