// The streaming VQA metric: overall and per-type percentages, rounding, input checks, conformance.
import { describe, expect, test } from '@jest/globals';
import { describeMetric } from '@mmft/core/testing';
import { vqaMetric } from './plugin';
import type { VqaInput } from '@mmft/core';
import { VqaMetric } from './vqa-metric';

const updates: VqaInput[] = [
  { kind: 'vqa', id: 'q1', prediction: 'Two.', answers: Array(10).fill('2'), answerType: 'number', questionType: 'how many' },
  {
    kind: 'vqa',
    id: 'q2',
    prediction: 'dog',
    answers: ['dog', 'dog', ...Array(8).fill('cat')],
    answerType: 'other',
    questionType: 'what is',
  },
  { kind: 'vqa', id: 'q3', prediction: 'no', answers: [...Array(9).fill('yes'), 'no'], answerType: 'yes/no', questionType: 'is the' },
];

describe('vqa metric', () => {
  test('overall, per item and per type, rounded to 2 decimals like vqaEval.py', () => {
    const m = new VqaMetric({ variant: 'lavis', decimals: 2 });
    m.update(updates);
    const r = m.compute();
    // (1 + 0.6 + 0.3) / 3 = 0.6333… → 63.33
    expect(r.scores.accuracy).toBe(63.33);
    expect(r.perItem).toEqual({ q1: { accuracy: 100 }, q2: { accuracy: 60 }, q3: { accuracy: 30 } });
    expect(r.groups!.answer_type!.other).toEqual({ accuracy: 60, count: 1 });
    expect(r.groups!.question_type!['how many']).toEqual({ accuracy: 100, count: 1 });
  });

  test('decimals: null keeps full precision', () => {
    const m = new VqaMetric({ variant: 'lavis', decimals: null });
    m.update(updates);
    expect(m.compute().scores.accuracy).toBeCloseTo(190 / 3, 12);
  });

  test('no human answers and duplicate ids are refused', () => {
    const m = new VqaMetric({ variant: 'lavis', decimals: 2 });
    expect(() => m.update({ id: 'x', prediction: 'a', answers: [] })).toThrow(/no human answers/);
    m.update(updates[0]!);
    expect(() => m.update(updates[0]!)).toThrow(/given twice/);
  });
});

describeMetric(vqaMetric, { config: {}, updates });
