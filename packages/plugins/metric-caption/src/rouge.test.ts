// ROUGE-L against values worked out by hand from rouge.py's definition.
import { describe, expect, test } from '@jest/globals';
import { lcsLength, rougeL } from './rouge';

const w = (s: string): string[] => s.split(' ');
const f = (p: number, r: number): number => ((1 + 1.44) * p * r) / (r + 1.44 * p);

describe('rouge-l', () => {
  test('lcs', () => {
    expect(lcsLength(w('a b c d e'), w('a c e'))).toBe(3);
    expect(lcsLength(w('a c e'), w('a b c d e'))).toBe(3);
    expect(lcsLength(w('x y'), w('a b'))).toBe(0);
  });

  test('equal to a reference → 1', () => {
    expect(rougeL(w('a cat on a mat'), [w('a cat on a mat'), w('dog')])).toBeCloseTo(1, 15);
  });

  test('best precision and best recall are taken separately over references', () => {
    // ref1 "a b": lcs 2 → p 2/4, r 1; ref2 "a b c d e f g h": lcs 4 → p 1, r 4/8
    const score = rougeL(w('a b c d'), [w('a b'), w('a b c d e f g h')]);
    expect(score).toBeCloseTo(f(1, 1), 12);
  });

  test('references of different lengths, beta 1.2 weights recall', () => {
    const score = rougeL(w('a b c'), [w('a x c y z w')]); // lcs 2 → p 2/3, r 2/6
    expect(score).toBeCloseTo(f(2 / 3, 2 / 6), 12);
  });

  test('no shared word → 0; empty candidate counts as one empty token', () => {
    expect(rougeL(w('x y'), [w('a b')])).toBe(0);
    expect(rougeL([], [w('a b')])).toBe(0);
  });
});
