// BLEU against values worked out by hand from bleu_scorer.py's definition.
import { describe, expect, test } from '@jest/globals';
import { bleuStats, corpusBleu } from './bleu';

const w = (s: string): string[] => s.split(' ');

describe('bleu', () => {
  test('candidate equal to a reference scores 1 for every order (up to the 1e-9 guard)', () => {
    const bleus = corpusBleu([bleuStats(w('a man rides a horse'), [w('a man rides a horse'), w('a dog')])]);
    for (const b of bleus) expect(b).toBeCloseTo(1, 8);
    // Equal lengths still give ratio (5 + 1e-15) / (5 + 1e-9) < 1: the reference applies a
    // brevity penalty of exp(1 - 1/ratio) ≈ 1 - 2e-10 even then, and so do we.
    const ratio = (5 + 1e-15) / (5 + 1e-9);
    expect(bleus[0]).toBe(((5 + 1e-15) / (5 + 1e-9)) * Math.exp(1 - 1 / ratio));
  });

  test('clipping: a repeated word counts at most as often as in one reference', () => {
    const s = bleuStats(w('the the the the'), [w('the cat on the mat'), w('a cat')]);
    expect(s.correct).toEqual([2, 0, 0, 0]); // "the" twice in the first reference
    expect(s.guess).toEqual([4, 3, 2, 1]);
    // testlen 4, closest reference length 5 → brevity penalty exp(1 - 5/4)
    const bp = Math.exp(1 - 1 / ((4 + 1e-15) / (5 + 1e-9)));
    expect(corpusBleu([s])[0]).toBeCloseTo(((2 + 1e-15) / (4 + 1e-9)) * bp, 15);
  });

  test('closest reference length, the shorter one on a tie', () => {
    expect(bleuStats(w('a b c'), [w('a b'), w('a b c d')]).reflen).toBe(2);
    expect(bleuStats(w('a b c'), [w('a b c d e f'), w('a b c d')]).reflen).toBe(4);
  });

  test('no shared word: precision is ~0 (1e-15 / guess), not NaN', () => {
    const bleus = corpusBleu([bleuStats(w('x y z'), [w('a b c')])]);
    expect(bleus[0]).toBeCloseTo(1e-15 / 3, 20);
    expect(Number.isNaN(bleus[3])).toBe(false);
  });

  test('corpus level sums matches and lengths before taking the ratio', () => {
    const a = bleuStats(w('a b'), [w('a b')]); // 2/2 unigrams
    const b = bleuStats(w('c d e f'), [w('c x y z')]); // 1/4 unigrams
    const ratio = (6 + 1e-15) / (6 + 1e-9);
    expect(corpusBleu([a, b])[0]).toBeCloseTo(((3 + 1e-15) / (6 + 1e-9)) * Math.exp(1 - 1 / ratio), 15);
  });
});
