// Attention masks (causal, padding, prefix, combined) and MASK_MIN, run by core on cpu and by
// backend plugins with their fused kernels installed (index.ts).
import * as tf from '@tensorflow/tfjs-core';
import { describe, expect, test } from '@jest/globals';
import { causalLmMask, causalMask, combineMasks, extendMaskForPrefix, MASK_MIN, paddingMask, positionIdsFromMask } from '../../nn/masks';

/** Registers core's masks tests; the caller has selected the backend. */
export function masksSuite(): void {
  describe('masks', () => {
    test('MASK_MIN is exactly float32 min, as torch.finfo(torch.float32).min', () => {
      expect(Math.fround(MASK_MIN)).toBe(MASK_MIN);
      expect(Math.fround(MASK_MIN * 1.0000001)).toBe(-Infinity);
    });

    test('causalMask blocks the future only', () => {
      const m = causalMask(3);
      expect(m.shape).toEqual([1, 1, 3, 3]);
      expect(m.arraySync()[0][0]).toEqual([
        [0, MASK_MIN, MASK_MIN],
        [0, 0, MASK_MIN],
        [0, 0, 0],
      ]);
      expect(() => causalMask(0)).toThrow(/positive length/);
    });

    test('paddingMask turns 0/1 [B, S] into additive [B, 1, 1, S]', () => {
      const m = paddingMask(
        tf.tensor2d(
          [
            [1, 1, 0],
            [1, 0, 0],
          ],
          [2, 3],
          'int32',
        ),
      );
      expect(m.shape).toEqual([2, 1, 1, 3]);
      expect(Array.from(m.dataSync()).map((v) => (v === 0 ? 0 : v))).toEqual([0, 0, MASK_MIN, 0, MASK_MIN, MASK_MIN]);
      expect(() => paddingMask(tf.ones([3]))).toThrow(/\[batch, keys\] mask/);
    });

    test('combineMasks broadcasts, clamps at MASK_MIN and skips absent masks', () => {
      const combined = combineMasks(causalMask(3), undefined, paddingMask(tf.tensor2d([[1, 1, 0]])))!;
      expect(combined.shape).toEqual([1, 1, 3, 3]);
      const rows = (combined.arraySync() as number[][][][])[0][0];
      expect(rows[0]).toEqual([0, MASK_MIN, MASK_MIN]); // blocked twice is still MASK_MIN, not -Infinity
      expect(rows[2]).toEqual([0, 0, MASK_MIN]);
      expect(combineMasks(null, undefined)).toBeUndefined();
      expect(() => combineMasks(causalMask(3), causalMask(4))).toThrow(/broadcastable/);
    });

    test('a fully blocked row gives uniform weights, never NaN; blocked keys get exactly 0', () => {
      const scores = tf.tensor4d([
        [
          [
            [3, -2, 5],
            [1, 2, 3],
          ],
        ],
      ]);
      const mask = tf.tensor4d([
        [
          [
            [MASK_MIN, MASK_MIN, MASK_MIN],
            [0, MASK_MIN, 0],
          ],
        ],
      ]);
      const probs = (tf.softmax(tf.maximum(tf.add(scores, mask), MASK_MIN)).arraySync() as number[][][][])[0][0];
      probs[0].forEach((p) => expect(p).toBeCloseTo(1 / 3, 6));
      expect(probs[1][1]).toBe(0);
    });

    test('extendMaskForPrefix prepends attendable columns', () => {
      const m = extendMaskForPrefix(paddingMask(tf.tensor2d([[1, 0]])), 2);
      expect(m.shape).toEqual([1, 1, 1, 4]);
      expect(Array.from(m.dataSync()).map((v) => (v === 0 ? 0 : v))).toEqual([0, 0, 0, MASK_MIN]);
      expect(extendMaskForPrefix(tf.zeros([1, 1, 3, 1]), 2).shape).toEqual([1, 1, 3, 1]);
    });
  });
  causalLmMasksSuite();
}

/** Registers the causal-LM mask tests (causalLmMask, positionIdsFromMask); run as part of the masks suite. */
export function causalLmMasksSuite(): void {
  const M = MASK_MIN;
  const rows = (t: tf.Tensor) => (t.arraySync() as number[][][][]).map((b) => b[0].map((r) => r.map((v) => (v === 0 ? 0 : v))));

  describe('causal-LM masks', () => {
    test('causalLmMask without padding is causal over past + new keys', () => {
      const prefill = causalLmMask(undefined, 2, 3, 0);
      expect(prefill.shape).toEqual([2, 1, 3, 3]);
      expect(rows(prefill)[1]).toEqual([
        [0, M, M],
        [0, 0, M],
        [0, 0, 0],
      ]);
      // Two new queries after three cached positions: they sit at absolute positions 3 and 4.
      expect(rows(causalLmMask(undefined, 1, 2, 3))[0]).toEqual([
        [0, 0, 0, 0, M],
        [0, 0, 0, 0, 0],
      ]);
    });

    test('left padding blocks the padded keys in every row; a padded query row is fully blocked', () => {
      const mask2d = tf.tensor2d(
        [
          [0, 1, 1],
          [1, 1, 1],
        ],
        [2, 3],
        'int32',
      );
      const m = rows(causalLmMask(mask2d, 2, 3, 0));
      expect(m[0]).toEqual([
        [M, M, M],
        [M, 0, M],
        [M, 0, 0],
      ]);
      expect(m[1]).toEqual([
        [0, M, M],
        [0, 0, M],
        [0, 0, 0],
      ]);
      // Decoding one token after 3 cached positions with a mask over all 4.
      const step = tf.tensor2d(
        [
          [0, 1, 1, 1],
          [1, 1, 0, 1],
        ],
        [2, 4],
        'int32',
      );
      expect(rows(causalLmMask(step, 2, 1, 3))).toEqual([[[M, 0, 0, 0]], [[0, 0, M, 0]]]);
    });

    test('causalLmMask refuses a 2-D mask that does not cover past + new positions', () => {
      expect(() => causalLmMask(tf.ones([2, 3]), 2, 1, 3)).toThrow(/\[batch, past \+ new\] = \[2, 4\]/);
      expect(() => causalLmMask(undefined, 1, 0, 0)).toThrow(/queryLength > 0/);
    });

    test('positionIdsFromMask: cumsum − 1, pads at 1, last queryLength columns, int32', () => {
      const mask2d = tf.tensor2d(
        [
          [0, 0, 1, 1, 1],
          [1, 1, 1, 1, 1],
          [1, 1, 1, 0, 0],
        ],
        [3, 5],
        'int32',
      );
      const all = positionIdsFromMask(mask2d, 0, 5);
      expect(all.dtype).toBe('int32');
      expect(all.arraySync()).toEqual([
        [1, 1, 0, 1, 2],
        [0, 1, 2, 3, 4],
        [0, 1, 2, 1, 1],
      ]);
      expect(positionIdsFromMask(mask2d, 4, 1).arraySync()).toEqual([[2], [4], [1]]);
      expect(positionIdsFromMask(tf.tensor2d([[0, 1, 1]], [1, 3], 'float32'), 1, 2).arraySync()).toEqual([[0, 1]]);
      expect(() => positionIdsFromMask(mask2d, 0, 4)).toThrow(/\[B, 0 \+ 4\]/);
    });

    test('leave only their outputs behind', () => {
      const mask2d = tf.ones([2, 4], 'int32');
      const before = tf.memory().numTensors;
      const outputs = [causalLmMask(mask2d, 2, 2, 2), causalLmMask(undefined, 2, 2, 2), positionIdsFromMask(mask2d, 2, 2)];
      expect(tf.memory().numTensors).toBe(before + outputs.length);
      tf.dispose(outputs);
    });
  });
}
