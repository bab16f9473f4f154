// Normalisation against test-fixtures/vqa_checker.py (Python 3's own `re` and str methods, our
// code), the Python 2 readings the official variant needs, and cases worked out by hand.
import { describe, expect, test } from '@jest/globals';
import golden from '../test-fixtures/vqa-golden.json';
import { vqaAccuracy } from './accuracy';
import { cleanAnswer, normalizeAnswer, processDigitArticle, processPunctuation } from './normalize';
import { PYTHON2, PYTHON3 } from './python-text';
import { pythonRound } from './python-round';

describe('answer normalisation (vqaEval.py)', () => {
  test.each(Object.entries(golden.normalize))('Python 3: %j → %j', (input, expected) => {
    expect(normalizeAnswer(cleanAnswer(input, PYTHON3), PYTHON3)).toBe(expected);
  });

  test('hand cases from the rules', () => {
    expect(normalizeAnswer('Two.')).toBe('2');
    expect(normalizeAnswer('a dog')).toBe('dog');
    expect(normalizeAnswer('dont')).toBe("don't");
    expect(normalizeAnswer('x-ray')).toBe('x ray'); // '-' touches no space → replaced by a space
    expect(processPunctuation('1,000')).toBe('1000'); // digit,digit → every mark deleted
    expect(processPunctuation('up - down')).toBe('up  down'); // '-' touches a space → deleted
    expect(cleanAnswer(' ten\tdogs\n')).toBe('ten dogs');
  });

  test('Python 2 and Python 3 read the same text differently', () => {
    // `\d` is ASCII in Python 2's re: Arabic-Indic digits around a comma are not digit,digit.
    expect(processPunctuation('١,٢', PYTHON2)).toBe('١ ٢');
    expect(processPunctuation('١,٢', PYTHON3)).toBe('١٢');
    // unicode.lower() in Python 2: one character at a time, simple mappings.
    expect(processDigitArticle('ΟΔΟΣ İ', PYTHON2)).toBe('οδοσ i');
    expect(processDigitArticle('ΟΔΟΣ İ', PYTHON3)).toBe('οδος i̇');
    // U+180E was a space in Python 2.7's Unicode 5.2.
    expect(cleanAnswer('yes\u180e', PYTHON2)).toBe('yes');
    expect(cleanAnswer('yes\u180e', PYTHON3)).toBe('yes\u180e');
  });
});

describe('accuracy: mean over leave-one-out of min(matches / 3, 1)', () => {
  // vqa_checker.py writes out the rules of the lavis variant.
  test.each(golden.accuracy)('lavis: $prediction', ({ prediction, answers, accuracy }) => {
    expect(vqaAccuracy(prediction, answers, 'lavis')).toBe(accuracy);
  });

  test.each(['official', 'lavis'] as const)('%s, by hand: 2 of 10 humans agree → (8 × 2/3 + 2 × 1/3) / 10 = 0.6', (variant) => {
    expect(vqaAccuracy('dog', ['dog', 'dog', ...Array(8).fill('cat')], variant)).toBeCloseTo(0.6, 15);
    expect(vqaAccuracy('cat', Array(10).fill('cat'), variant)).toBe(1);
    expect(vqaAccuracy('bird', Array(10).fill('cat'), variant)).toBe(0);
  });
});

describe('python round', () => {
  test.each(Object.entries(golden.round))('round(%s, 2) = %d', (x, expected) => {
    expect(pythonRound(Number(x), 2)).toBe(expected);
  });
});
