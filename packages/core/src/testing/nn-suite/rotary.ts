// RotaryEmbedding and applyRotary against the RoPE formulas written out in plain JavaScript
// (transformers' LlamaRotaryEmbedding and rotate_half), run by core on cpu and by backend plugins
// with their kernels installed (index.ts).
import * as tf from '@tensorflow/tfjs-core';
import { describe, expect, test } from '@jest/globals';
import { isMmftError } from '../../errors';
import { applyRotary, RotaryEmbedding } from '../../nn/rotary';

/** x' for one vector at one position: pairs (i, i + d/2) rotated by position·invFreq[i] (half-split convention). */
function rotateVector(x: number[], position: number, base: number, dim = x.length, factor = 1): number[] {
  const half = dim / 2;
  const out = [...x];
  for (let i = 0; i < half; i++) {
    const angle = (position / factor) * base ** (-(2 * i) / dim);
    const [a, b] = [x[i], x[i + half]];
    out[i] = a * Math.cos(angle) - b * Math.sin(angle);
    out[i + half] = b * Math.cos(angle) + a * Math.sin(angle);
  }
  return out;
}

const dot = (a: number[], b: number[]) => a.reduce((s, v, i) => s + v * b[i], 0);

/** Registers core's rotary tests; the caller has selected the backend. */
export function rotarySuite(): void {
  describe('RotaryEmbedding / applyRotary', () => {
    test('inv_freq = 1 / base^(2i/dim); cos/sin are cat(freqs, freqs) per position', () => {
      const rope = new RotaryEmbedding({ dim: 4, base: 100 });
      expect(Array.from(rope.invFreq)).toEqual([1, Math.fround(0.1)]);
      const { cos, sin } = rope.cosSin(tf.tensor2d([[0, 1, 5]], [1, 3], 'int32'));
      expect(cos.shape).toEqual([1, 3, 4]);
      const angles = [0, 1, 5].map((p) => [p, p * 0.1, p, p * 0.1]);
      Array.from(cos.dataSync()).forEach((v, i) => expect(v).toBeCloseTo(Math.cos(angles.flat()[i]), 6));
      Array.from(sin.dataSync()).forEach((v, i) => expect(v).toBeCloseTo(Math.sin(angles.flat()[i]), 6));
      expect(new RotaryEmbedding({ dim: 8 }).base).toBe(10000);
    });

    test('applyRotary equals the per-pair rotation of q and k, for every head and batch row', () => {
      const [B, H, Hkv, T, hd] = [2, 2, 1, 3, 8];
      const base = 10000;
      const rope = new RotaryEmbedding({ dim: hd, base });
      const positions = [
        [0, 1, 2],
        [1, 1, 0],
      ];
      const { cos, sin } = rope.cosSin(tf.tensor2d(positions, [B, T], 'int32'));
      const q = tf.randomNormal([B, H, T, hd], 0, 1, 'float32', 1);
      const k = tf.randomNormal([B, Hkv, T, hd], 0, 1, 'float32', 2);
      const [q2, k2] = applyRotary(q, k, cos, sin);
      for (const [input, output] of [
        [q, q2],
        [k, k2],
      ]) {
        const xs = input.arraySync() as number[][][][];
        const ys = output.arraySync() as number[][][][];
        xs.forEach((row, b) =>
          row.forEach((head, h) =>
            head.forEach((vec, t) => {
              const expected = rotateVector(vec, positions[b][t], base);
              ys[b][h][t].forEach((v, i) => expect(v).toBeCloseTo(expected[i], 5));
            }),
          ),
        );
      }
    });

    test('q·k after rotation depends only on the position difference', () => {
      const rope = new RotaryEmbedding({ dim: 8, base: 10000 });
      const q = tf.randomNormal([1, 1, 1, 8], 0, 1, 'float32', 3);
      const k = tf.randomNormal([1, 1, 1, 8], 0, 1, 'float32', 4);
      const rotated = (x: tf.Tensor, position: number) => {
        const { cos, sin } = rope.cosSin(tf.tensor2d([[position]], [1, 1], 'int32'));
        return Array.from(applyRotary(x, x, cos, sin)[0].dataSync());
      };
      const score = (pq: number, pk: number) => dot(rotated(q, pq), rotated(k, pk));
      const s = score(5, 2);
      expect(score(13, 10)).toBeCloseTo(s, 4);
      expect(score(3, 0)).toBeCloseTo(s, 4);
      expect(Math.abs(score(3, 1) - s)).toBeGreaterThan(1e-3);
      // Position 0 is the identity.
      expect(score(0, 0)).toBeCloseTo(dot(Array.from(q.dataSync()), Array.from(k.dataSync())), 5);
    });

    test('linear rope_scaling divides positions by factor; partial rotary leaves the tail', () => {
      const scaled = new RotaryEmbedding({ dim: 4, base: 100, scaling: { rope_type: 'linear', factor: 4 } });
      const plain = new RotaryEmbedding({ dim: 4, base: 100 });
      const a = scaled.cosSin(tf.tensor2d([[8]], [1, 1], 'int32'));
      const b = plain.cosSin(tf.tensor2d([[2]], [1, 1], 'int32'));
      Array.from(a.cos.dataSync()).forEach((v, i) => expect(v).toBeCloseTo(b.cos.dataSync()[i], 6));
      expect(new RotaryEmbedding({ dim: 4, scaling: { type: 'linear', factor: 2 } }).factor).toBe(2); // the legacy key
      expect(new RotaryEmbedding({ dim: 4, scaling: { rope_type: 'default' } }).factor).toBe(1);

      const x = tf.randomNormal([1, 1, 1, 6], 0, 1, 'float32', 5);
      const { cos, sin } = plain.cosSin(tf.tensor2d([[3]], [1, 1], 'int32'));
      const [y] = applyRotary(x, x, cos, sin);
      const xs = Array.from(x.dataSync());
      const expected = [...rotateVector(xs.slice(0, 4), 3, 100), ...xs.slice(4)];
      Array.from(y.dataSync()).forEach((v, i) => expect(v).toBeCloseTo(expected[i], 5));
    });

    test('other rope_scaling types are refused naming the field; bad shapes fail with E_SHAPE', () => {
      for (const type of ['dynamic', 'yarn', 'llama3']) {
        try {
          new RotaryEmbedding({ dim: 4, scaling: { rope_type: type, factor: 2 } });
          throw new Error('expected an error');
        } catch (e) {
          expect(isMmftError(e) && e.code).toBe('E_UNSUPPORTED');
          expect((e as Error).message).toContain(`rope_scaling.rope_type "${type}"`);
        }
      }
      expect(() => new RotaryEmbedding({ dim: 4, scaling: { rope_type: 'linear' } })).toThrow(/rope_scaling.factor/);
      expect(() => new RotaryEmbedding({ dim: 5 })).toThrow(/even/);
      const rope = new RotaryEmbedding({ dim: 4 });
      const { cos, sin } = rope.cosSin(tf.zeros([1, 3], 'int32'));
      expect(() => applyRotary(tf.zeros([1, 2, 2, 4]), tf.zeros([1, 2, 2, 4]), cos, sin)).toThrow(/applyRotary needs/);
    });

    test('leave only the outputs behind', () => {
      const rope = new RotaryEmbedding({ dim: 4 });
      const ids = tf.tensor2d([[0, 1]], [1, 2], 'int32');
      const q = tf.ones([1, 2, 2, 4]);
      const before = tf.memory().numTensors;
      const { cos, sin } = rope.cosSin(ids);
      const [a, b] = applyRotary(q, q, cos, sin);
      expect(tf.memory().numTensors).toBe(before + 4);
      tf.dispose([cos, sin, a, b]);
    });
  });
}
