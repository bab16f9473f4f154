import { describe, expect, test } from '@jest/globals';
import { normalizeSquad, squadExact, squadF1 } from './squad';

describe('SQuAD v1.1 rules (evaluate-v1.1.py)', () => {
  test('normalisation: lower, punctuation, articles as whole words, whitespace', () => {
    expect(normalizeSquad('The  Red, circle!')).toBe('red circle');
    expect(normalizeSquad('Another thing; an apple')).toBe('another thing apple');
    // Punctuation goes before articles: "a/an" becomes the word "aan", which is no article.
    expect(normalizeSquad('a/an')).toBe('aan');
    expect(normalizeSquad('The.')).toBe('');
    // A letter outside ASCII is a word character, as in Python 3's \b.
    expect(normalizeSquad('éa a')).toBe('éa');
  });

  test('F1 counts shared tokens with multiplicity', () => {
    expect(squadF1('a red circle', 'the red square')).toBe(0.5);
    // shared = min(3, 1) = 1: P 1/3, R 1/2, F1 = 2·(1/6)/(5/6) = 2/5
    expect(squadF1('red red red', 'red blue')).toBeCloseTo(0.4, 15);
    // shared 2 of 3 and 2 of 4: P 2/3, R 1/2, F1 = (2/3)/(7/6) = 4/7
    expect(squadF1('two blue squares', 'two blue big circles')).toBeCloseTo(4 / 7, 15);
    expect(squadF1('Two circles.', 'two circles')).toBe(1);
  });

  test('empty sides: F1 0 whenever nothing is shared; exact match compares the normalised texts', () => {
    expect(squadF1('', 'two circles')).toBe(0);
    expect(squadF1('two', '')).toBe(0);
    expect(squadF1('', '')).toBe(0);
    expect(squadExact('', '')).toBe(1);
    expect(squadExact('The.', 'a')).toBe(1);
    expect(squadExact('', 'two')).toBe(0);
    expect(squadExact('Two circles!', 'two  circles')).toBe(1);
    expect(squadExact('two circle', 'two circles')).toBe(0);
  });
});
