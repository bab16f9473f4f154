// The synthetic LM batches follow their closed form (the torch peer rebuilds them from it), label
// the way objective-causal-lm does (−100 on prompts and padding) and count label tokens as it does.
import { describe, expect, test } from '@jest/globals';
import { labelCount } from '@mmft/objective-causal-lm';
import { lmHostBatch, lmPromptIds, lmPromptLength, lmRowLength, lmSpecOf } from './lm-synthetic';

const spec = { batch: 3, length: 16, vocabSize: 50, padId: 1 };

describe('lmHostBatch', () => {
  test('row 2 of batch 1 by hand: 14 real tokens, prompt 8, then padding', () => {
    // s = 1·3 + 2 = 5: length 16 − (37·5 mod 4) = 15, prompt 4 + (65 mod 12) = 9.
    expect(lmRowLength(5, 16)).toBe(15);
    expect(lmPromptLength(5)).toBe(9);
    const { ids, mask, labels } = lmHostBatch(spec, 1);
    const row = (a: Int32Array) => Array.from(a.slice(2 * 16, 3 * 16));
    expect(row(ids)[0]).toBe(3 + ((5 * 7919) % 47));
    expect(row(ids)[10]).toBe(3 + ((5 * 7919 + 10 * 104729) % 47));
    expect(row(ids)[15]).toBe(1);
    expect(row(mask)).toEqual([...Array(15).fill(1), 0]);
    expect(row(labels).slice(0, 9)).toEqual(Array(9).fill(-100));
    expect(row(labels).slice(9, 15)).toEqual(row(ids).slice(9, 15));
    expect(row(labels)[15]).toBe(-100);
  });

  test('ids stay in the vocabulary above the special ids; count is objective-causal-lm labelCount summed over rows', () => {
    for (let k = 0; k < 4; k++) {
      const { ids, mask, labels, count } = lmHostBatch(spec, k);
      let expected = 0;
      for (let b = 0; b < spec.batch; b++) {
        const rowLabels = Array.from(labels.slice(b * 16, (b + 1) * 16));
        expected += labelCount(rowLabels);
        for (let t = 0; t < 16; t++) {
          const at = b * 16 + t;
          if (mask[at] === 1) {
            expect(ids[at]).toBeGreaterThanOrEqual(3);
            expect(ids[at]).toBeLessThan(50);
          } else expect([ids[at], labels[at]]).toEqual([1, -100]);
        }
      }
      expect(count).toBe(expected);
      expect(count).toBeGreaterThan(0);
    }
  });
});

describe('prompts and specs', () => {
  test('prompt rows are full length and differ between rows', () => {
    const ids = lmPromptIds({ batch: 2, length: 4, vocabSize: 50, padId: 0 });
    expect(Array.from(ids)).toEqual([
      3 + (7919 % 47),
      3 + ((7919 + 104729) % 47),
      3 + ((7919 + 2 * 104729) % 47),
      3 + ((7919 + 3 * 104729) % 47),
      3 + ((2 * 7919) % 47),
      3 + ((2 * 7919 + 104729) % 47),
      3 + ((2 * 7919 + 2 * 104729) % 47),
      3 + ((2 * 7919 + 3 * 104729) % 47),
    ]);
  });

  test('the spec reads vocab_size and pad_token_id (null pad → 0) and refuses a config without a vocabulary', () => {
    expect(lmSpecOf({ vocab_size: 64, pad_token_id: 5 }, 2, 8)).toEqual({ batch: 2, length: 8, vocabSize: 64, padId: 5 });
    expect(lmSpecOf({ vocab_size: 64, pad_token_id: null }, 2, 8).padId).toBe(0);
    expect(() => lmSpecOf({}, 2, 8)).toThrow(/vocab_size/);
  });
});
