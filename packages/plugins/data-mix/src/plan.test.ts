import { describe, expect, test } from '@jest/globals';
import { isMmftError } from '@mmft/core';
import { mixSeeds, planSources, shuffleSources } from './plan';

const list = (labels: Int32Array) => [...labels];

describe('planSources', () => {
  test('concat: each source in order, as many as it holds (empty sources allowed)', () => {
    expect(list(planSources([2, 0, 3], { strategy: 'concat', seed: 0 }))).toEqual([0, 0, 2, 2, 2]);
  });

  // The two index examples in huggingface/datasets arrow_dataset.py `_interleave_map_style_datasets`
  // for lengths [3, 4, 5]: [0,3,7, 1,4,8, 2,5,9] (under) and 5 rounds with wrap-around (over).
  test('interleave without probabilities takes turns: min rounds (under), max rounds (over)', () => {
    expect(list(planSources([3, 4, 5], { strategy: 'interleave_under', seed: 0 }))).toEqual([0, 1, 2, 0, 1, 2, 0, 1, 2]);
    expect(list(planSources([3, 4, 5], { strategy: 'interleave_over', seed: 0 }))).toEqual(Array.from({ length: 15 }, (_, k) => k % 3));
  });

  test('interleave_under with probabilities stops right after the first source runs out', () => {
    for (let seed = 0; seed < 20; seed++) {
      const sizes = [3, 5];
      const labels = list(planSources(sizes, { strategy: 'interleave_under', probabilities: [0.5, 0.5], seed }));
      const counts = [0, 1].map((i) => labels.filter((l) => l === i).length);
      const last = labels[labels.length - 1]!;
      // The last draw exhausted its source; before it no source had run out.
      expect(counts[last]).toBe(sizes[last]);
      expect(counts[1 - last]!).toBeLessThan(sizes[1 - last]!);
    }
  });

  test('interleave_over with probabilities stops once every source has run out at least once', () => {
    for (let seed = 0; seed < 20; seed++) {
      const sizes = [2, 6];
      const labels = list(planSources(sizes, { strategy: 'interleave_over', probabilities: [0.3, 0.7], seed }));
      const counts = [0, 1].map((i) => labels.filter((l) => l === i).length);
      expect(counts[0]).toBeGreaterThanOrEqual(2);
      expect(counts[1]).toBeGreaterThanOrEqual(6);
      // Dropping the last draw leaves its source short of running out for the first time.
      const last = labels[labels.length - 1]!;
      expect(counts[last]! - 1).toBeLessThan(sizes[last]!);
      // The last draw ends a pass of its source exactly.
      expect(counts[last]! % sizes[last]!).toBe(0);
    }
  });

  test('draw counts follow the probabilities (binomial: within 4 standard deviations)', () => {
    const p = [0.5, 0.3, 0.2];
    const labels = list(planSources([20_000, 20_000, 20_000], { strategy: 'interleave_under', probabilities: p, seed: 3 }));
    // The stop comes when source 0 (the most drawn) reaches 20000: about 40000 draws in all.
    const n = labels.length;
    expect(n).toBeGreaterThan(38_000);
    p.forEach((pi, i) => {
      const count = labels.filter((l) => l === i).length;
      expect(Math.abs(count - n * pi)).toBeLessThan(4 * Math.sqrt(n * pi * (1 - pi)));
    });
  });

  test('the same seed gives the same draws, another seed others; a zero probability is never drawn', () => {
    const options = { strategy: 'interleave_under' as const, probabilities: [0.5, 0.5, 0], seed: 7 };
    const a = list(planSources([20, 20, 20], options));
    expect(list(planSources([20, 20, 20], options))).toEqual(a);
    expect(list(planSources([20, 20, 20], { ...options, seed: 8 }))).not.toEqual(a);
    expect(a).not.toContain(2);
  });

  test('interleaving an empty source is an E_DATA error naming it', () => {
    let error: unknown;
    try {
      planSources([3, 0], { strategy: 'interleave_under', seed: 0 });
    } catch (e) {
      error = e;
    }
    expect(isMmftError(error) && error.code).toBe('E_DATA');
    expect((error as Error).message).toContain('sources[1]');
  });
});

describe('shuffleSources', () => {
  test('a permutation with the same counts, fixed by the seed; every arrangement reachable', () => {
    const labels = Int32Array.from([0, 0, 1, 2]);
    const seen = new Map<string, number>();
    for (let seed = 0; seed < 2400; seed++) {
      const shuffled = shuffleSources(labels, mixSeeds(seed, 0));
      expect([...shuffled].sort()).toEqual([0, 0, 1, 2]);
      const key = shuffled.join('');
      seen.set(key, (seen.get(key) ?? 0) + 1);
    }
    // 4!/2! = 12 distinct arrangements, each about 200 times (uniform).
    expect(seen.size).toBe(12);
    for (const count of seen.values()) expect(Math.abs(count - 200)).toBeLessThan(4 * Math.sqrt(200));
    expect(list(shuffleSources(labels, 5))).toEqual(list(shuffleSources(labels, 5)));
  });
});
