import { describe, expect, test } from '@jest/globals';
import { softmax, temperature, topK, topP } from './logits-processors';
import { SeededRandom, sampleIndex, sampleWithoutReplacement } from './random';

describe('SeededRandom', () => {
  test('the same seed gives the same stream; other seeds (also beyond 32 bits) others', () => {
    const draw = (seed: number) => {
      const r = new SeededRandom(seed);
      return Array.from({ length: 5 }, () => r.next());
    };
    expect(draw(42)).toEqual(draw(42));
    expect(draw(42)).not.toEqual(draw(43));
    expect(draw(2 ** 32 + 42)).not.toEqual(draw(42));
    for (const x of draw(1)) expect(x >= 0 && x < 1).toBe(true);
  });

  test('uniform: 10 equal bins of 20 000 draws each hold 2 000 ± 200 (≈ 4.7 sd)', () => {
    const r = new SeededRandom(9);
    const bins = new Array<number>(10).fill(0);
    for (let i = 0; i < 20000; i++) bins[Math.floor(r.next() * 10)]!++;
    for (const count of bins) expect(Math.abs(count - 2000)).toBeLessThan(200);
  });
});

/** Frequencies of `n` draws from the processed row. */
function frequencies(scores: Float64Array, n: number, seed: number): number[] {
  const r = new SeededRandom(seed);
  const probs = softmax(scores);
  const counts = new Array<number>(scores.length).fill(0);
  for (let i = 0; i < n; i++) counts[sampleIndex(probs, r)]!++;
  return counts.map((c) => c / n);
}

describe('sampling follows the filtered distribution', () => {
  // 20 000 draws: a probability p is estimated within 4 sd = 4·sqrt(p(1−p)/20000) ≤ 0.0142.
  const N = 20000;
  const TOL = 0.0142;
  const base = () => Float64Array.from([0.5, 0.3, 0.15, 0.05], Math.log);

  test('no filter: the softmax probabilities', () => {
    frequencies(base(), N, 1).forEach((f, i) => expect(Math.abs(f - [0.5, 0.3, 0.15, 0.05][i]!)).toBeLessThan(TOL));
  });

  test('top-k 2: 0.625 and 0.375', () => {
    const s = base();
    topK(s, 2);
    expect(frequencies(s, N, 2)).toEqual([expect.any(Number), expect.any(Number), 0, 0]);
    const [a, b] = frequencies(s, N, 2);
    expect(Math.abs(a! - 0.625)).toBeLessThan(TOL);
    expect(Math.abs(b! - 0.375)).toBeLessThan(TOL);
  });

  test('top-p 0.9: the 0.05 id goes (ascending cumsum 0.05 ≤ 0.1), the rest renormalised over 0.95', () => {
    const s = base();
    topP(s, 0.9);
    const f = frequencies(s, N, 3);
    expect(f[3]).toBe(0);
    [0.5, 0.3, 0.15].forEach((p, i) => expect(Math.abs(f[i]! - p / 0.95)).toBeLessThan(TOL));
  });

  test('temperature 0.5 squares the odds: 0.6 : 0.4 → 0.36 : 0.16', () => {
    const s = Float64Array.from([0.6, 0.4], Math.log);
    temperature(s, 0.5);
    expect(Math.abs(frequencies(s, N, 4)[0]! - 0.36 / 0.52)).toBeLessThan(TOL);
  });
});

describe('sampleWithoutReplacement', () => {
  test('distinct indices; the first draw follows the weights; exhausted weight falls back to index order', () => {
    const r = new SeededRandom(5);
    const firsts = [0, 0, 0];
    for (let i = 0; i < 4000; i++) {
      const picked = sampleWithoutReplacement([0.7, 0.2, 0.1], 3, r);
      expect(new Set(picked).size).toBe(3);
      firsts[picked[0]!]!++;
    }
    // 4000 draws of p = 0.7: sd ≈ 29.
    expect(Math.abs(firsts[0]! - 2800)).toBeLessThan(120);
    expect(sampleWithoutReplacement([0, 1, 0], 3, r)).toEqual([1, 0, 2]);
  });
});
