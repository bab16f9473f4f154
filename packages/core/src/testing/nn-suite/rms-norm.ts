// RMSNorm against LlamaRMSNorm's formula written out in plain JavaScript, run by core on cpu and by
// backend plugins with their kernels installed (index.ts).
import * as tf from '@tensorflow/tfjs-core';
import { describe, expect, test } from '@jest/globals';
import { isMmftError } from '../../errors';
import { registerGradients } from '../../nn/gradients';
import { RMSNorm } from '../../nn/rms-norm';

/** x / √(mean(x²) + eps) · w per row, in doubles. */
const reference = (rows: number[][], w: number[], eps: number) =>
  rows.map((r) => {
    const inv = 1 / Math.sqrt(r.reduce((s, v) => s + v * v, 0) / r.length + eps);
    return r.map((v, i) => v * inv * w[i]);
  });

/** Registers core's RMSNorm tests; the caller has selected the backend. */
export function rmsNormSuite(): void {
  describe('RMSNorm', () => {
    test('matches x · rsqrt(mean(x²) + eps) · weight, weight initialised to ones, no bias', () => {
      const norm = new RMSNorm(4, { eps: 1e-5 });
      expect(norm.namedParameters().map(([n, v]) => [n, v.shape])).toEqual([['weight', [4]]]);
      expect(Array.from(norm.weight.dataSync())).toEqual([1, 1, 1, 1]);
      const rows = [
        [1, 2, 3, 4],
        [-0.5, 0.25, 0, 2],
        [0, 0, 0, 0],
      ];
      const y = norm.forward(tf.tensor3d([rows]));
      expect(y.shape).toEqual([1, 3, 4]);
      // [1, 2, 3, 4]: mean of squares 7.5 → 1/√7.500001 = 0.3651480...
      expect(y.dataSync()[0]).toBeCloseTo(0.365148, 5);
      const expected = reference(rows, [1, 1, 1, 1], 1e-5).flat();
      Array.from(y.dataSync()).forEach((v, i) => expect(v).toBeCloseTo(expected[i], 5));
    });

    test('a learned weight scales per feature; eps defaults to 1e-6', () => {
      const norm = new RMSNorm(3);
      expect(norm.eps).toBe(1e-6);
      norm.weight.assign(tf.tensor1d([2, -1, 0.5]));
      const rows = [[1e-3, 2e-3, -3e-3]]; // small values: eps matters
      const y = Array.from(norm.forward(tf.tensor2d(rows)).dataSync());
      const expected = reference(rows, [2, -1, 0.5], 1e-6)[0];
      y.forEach((v, i) => expect(v).toBeCloseTo(expected[i], 5));
    });

    test('gradients reach the weight and the input; forward leaves only its output', () => {
      expect(registerGradients()).toBe(true);
      const norm = new RMSNorm(4);
      const x = tf.randomNormal([2, 4], 0, 1, 'float32', 3);
      const { grads } = tf.variableGrads(() => tf.sum(tf.mul(norm.forward(x), tf.reshape(tf.range(0, 8), [2, 4]))));
      const g = grads[norm.weight.name];
      expect(g.shape).toEqual([4]);
      expect(Array.from(g.dataSync()).every(Number.isFinite)).toBe(true);
      expect(tf.max(tf.abs(g)).dataSync()[0]).toBeGreaterThan(0);
      const before = tf.memory().numTensors;
      const y = norm.forward(x);
      expect(tf.memory().numTensors).toBe(before + 1);
      y.dispose();
    });

    test('a wrong width fails with E_SHAPE naming both', () => {
      const norm = new RMSNorm(4);
      try {
        norm.forward(tf.zeros([2, 3]));
        throw new Error('expected an error');
      } catch (e) {
        expect(isMmftError(e) && e.code).toBe('E_SHAPE');
        expect((e as Error).message).toMatch(/RMSNorm\(4\) got input of shape \[2, 3\]/);
      }
    });
  });
}
