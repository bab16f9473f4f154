import { describe, expect, test } from '@jest/globals';
import { cmrcExact, cmrcF1, longestCommonRun, segmentCmrc, stripCmrc } from './cmrc';

describe('CMRC 2018 rules (cmrc2018_evaluate.py)', () => {
  test('mixed segmentation: each ideograph a token, words between them, listed punctuation removed', () => {
    expect(segmentCmrc('两个red circles。')).toEqual(['两', '个', 'red', 'circles']);
    expect(segmentCmrc(' 3个Circle. ')).toEqual(['3', '个', 'circle', '.']);
    expect(segmentCmrc('红色（圆形）')).toEqual(['红', '色', '圆', '形']);
    // '……' in the script's list is two characters; a single '…' is kept, as the script does.
    expect(segmentCmrc('好…')).toEqual(['好', '…']);
    expect(segmentCmrc('')).toEqual([]);
  });

  test('F1 is over the longest common contiguous run of tokens', () => {
    // 红色的圆: 4 tokens shared in a run; P 4/4, R 4/7 → 8/11
    expect(cmrcF1('红色的圆', '一个红色的圆形')).toBeCloseTo(8 / 11, 15);
    // 红 and 圆 are both shared but not in one run: LCS 1, P 1/2, R 1/4 → 1/3 (a bag of tokens would give 2/3)
    expect(cmrcF1('红圆', '红色的圆')).toBeCloseTo(1 / 3, 15);
    expect(cmrcF1('两个圆。', '两个圆')).toBe(1);
    expect(longestCommonRun(['a', 'b', 'c', 'd'], ['x', 'b', 'c', 'y', 'a'])).toBe(2);
  });

  test('exact match after removing listed punctuation; inner spaces count', () => {
    expect(stripCmrc(' 两个圆！')).toBe('两个圆');
    expect(cmrcExact('两个圆！', '两个圆')).toBe(1);
    expect(cmrcExact('两个 圆', '两个圆')).toBe(0);
    expect(cmrcExact('Red圆', 'red圆')).toBe(1);
  });

  test('empty prediction or reference', () => {
    expect(cmrcF1('', '两个')).toBe(0);
    expect(cmrcExact('', '两个')).toBe(0);
    expect(cmrcF1('', '')).toBe(0);
    expect(cmrcExact('', '')).toBe(1);
    expect(cmrcF1('两个', '')).toBe(0);
  });
});
