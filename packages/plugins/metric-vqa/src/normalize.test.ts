// Normalisation and accuracy against test-fixtures/vqa_checker.py (Python's own `re`, our code)
// and against cases worked out by hand from vqaEval.py.
import { describe, expect, test } from '@jest/globals';
import golden from '../test-fixtures/vqa-golden.json';
import { vqaAccuracy } from './accuracy';
import { normalizeHumanAnswers, normalizePrediction, processPunctuation } from './normalize';
import { pythonRound } from './python-round';

describe('answer normalisation (vqaEval.py)', () => {
  test.each(Object.entries(golden.normalize))('%j → %j', (input, expected) => {
    expect(normalizePrediction(input)).toBe(expected);
  });

  test('hand cases from the rules', () => {
    expect(normalizePrediction('Two.')).toBe('2');
    expect(normalizePrediction('a dog')).toBe('dog');
    expect(normalizePrediction('dont')).toBe("don't");
    expect(normalizePrediction('x-ray')).toBe('x ray'); // '-' touches no space → replaced by a space
    expect(processPunctuation('1,000')).toBe('1000'); // digit,digit → every mark deleted
    expect(processPunctuation('up - down')).toBe('up  down'); // '-' touches a space → deleted
  });

  test('human answers are punctuation-processed only when they differ', () => {
    expect(normalizeHumanAnswers(['x-ray', 'x-ray'])).toEqual(['x-ray', 'x-ray']);
    expect(normalizeHumanAnswers(['x-ray', 'Two'])).toEqual(['x ray', 'Two']); // never lower-cased
  });
});

describe('accuracy: mean over leave-one-out of min(matches / 3, 1)', () => {
  test.each(golden.accuracy)('$prediction', ({ prediction, answers, accuracy }) => {
    expect(vqaAccuracy(prediction, answers)).toBe(accuracy);
  });

  test('by hand: 2 of 10 humans agree → (8 × 2/3 + 2 × 1/3) / 10 = 0.6', () => {
    expect(vqaAccuracy('dog', ['dog', 'dog', ...Array(8).fill('cat')])).toBeCloseTo(0.6, 15);
    expect(vqaAccuracy('cat', Array(10).fill('cat'))).toBe(1);
    expect(vqaAccuracy('bird', Array(10).fill('cat'))).toBe(0);
  });
});

describe('python round', () => {
  test.each(Object.entries(golden.round))('round(%s, 2) = %d', (x, expected) => {
    expect(pythonRound(Number(x), 2)).toBe(expected);
  });
});
