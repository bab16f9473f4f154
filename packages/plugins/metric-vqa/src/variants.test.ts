// The two variants against the upstream evaluators themselves (test-fixtures/vqa_reference.py
// runs GT-Vision-Lab/VQA vqaEval.py under Python 2.7 and LAVIS's copy under Python 3), and on
// cases worked out by hand where they disagree: swapping the variants fails every one of them.
import { describe, expect, test } from '@jest/globals';
import official from '../test-fixtures/vqa-reference-official.json';
import lavis from '../test-fixtures/vqa-reference-lavis.json';
import { vqaAccuracy } from './accuracy';
import { vqaConfigSchema } from './config';
import { vqaMetric } from './plugin';
import { python2Round, pythonRound } from './python-round';
import { VQA_VARIANTS, type VqaVariantName } from './variants';
import { VqaMetric, type VqaUpdate } from './vqa-metric';

const REFERENCES = { official, lavis } as const;

describe.each(['official', 'lavis'] as const)('variant %s = its upstream evaluator', (variant: VqaVariantName) => {
  const reference = REFERENCES[variant];

  test('per question, overall and per answer type, rounded to 2 decimals', () => {
    const metric = new VqaMetric({ variant, decimals: 2 });
    metric.update(
      reference.cases.map((c, i): VqaUpdate => ({
        id: String(i + 1),
        prediction: c.prediction,
        answers: c.answers,
        answerType: c.answer_type,
      })),
    );
    const report = metric.compute();
    const perItem = Object.fromEntries(reference.cases.map((c, i) => [String(i + 1), { accuracy: c.accuracy }]));
    expect(report.perItem).toEqual(perItem);
    expect(report.scores.accuracy).toBe(reference.overall);
    const perType = Object.fromEntries(Object.entries(report.groups!.answer_type!).map(([k, v]) => [k, v.accuracy]));
    expect(perType).toEqual(reference.per_answer_type);
  });

  test.each(reference.ties)('rounding ties: $right of $total right, round(x, $n) = $overall', ({ n, right, total, overall }) => {
    const metric = new VqaMetric({ variant, decimals: n });
    for (let i = 0; i < total; i++) metric.update({ id: String(i), prediction: i < right ? 'cat' : 'dog', answers: Array(10).fill('cat') });
    expect(metric.compute().scores.accuracy).toBe(overall);
  });

  test(`round(x, 2) as Python ${reference.python} computes it`, () => {
    const round = variant === 'official' ? python2Round : pythonRound;
    expect(VQA_VARIANTS[variant].round).toBe(round);
    for (const [x, expected] of Object.entries(reference.round)) expect([x, round(Number(x), 2)]).toEqual([x, expected]);
  });
});

// Accuracy of one question = mean over the 10 leave-one-out subsets of min(#matches / 3, 1).
describe('where the variants disagree (worked by hand)', () => {
  const ten = (answer: string): string[] => Array(10).fill(answer);
  test.each([
    // official: all ten humans agree → nothing is normalised, "Yes" ≠ "yes" → 0.
    // lavis: the prediction is always normalised to "yes" → 10 matches → 1.
    { prediction: 'Yes', answers: ten('yes'), official: 0, lavis: 1 },
    { prediction: 'yes.', answers: ten('yes'), official: 0, lavis: 1 },
    { prediction: 'Two.', answers: ten('2'), official: 0, lavis: 1 },
    // lavis lower-cases the prediction but never the humans: "yes" ≠ "Yes" → 0; official compares raw.
    { prediction: 'Yes', answers: ten('Yes'), official: 1, lavis: 0 },
    // official: humans differ → every answer normalised → "a dog", "the dog", "dog" are all "dog":
    //   3 matches; leaving out one of them leaves 2 → 2/3, leaving out a "cat" leaves 3 → 1:
    //   (3 × 2/3 + 7 × 1) / 10 = 0.9.
    // lavis: humans only lose punctuation → one "dog": (1 × 0 + 9 × 1/3) / 10 = 0.3.
    { prediction: 'dog', answers: ['a dog', 'the dog', 'dog', ...Array(7).fill('cat')], official: 0.9, lavis: 0.3 },
    // official: "two" → "2" for the humans too → 10 matches → 1. lavis: 2 matches:
    //   (2 × 1/3 + 8 × 2/3) / 10 = 0.6.
    { prediction: '2', answers: [...Array(8).fill('two'), '2', '2'], official: 1, lavis: 0.6 },
    // official strips the humans' answers ("yes\n" → "yes"): 3 matches → 0.9; lavis does not → 0.
    { prediction: 'yes', answers: [...Array(3).fill('yes\n'), ...Array(7).fill('no')], official: 0.9, lavis: 0 },
  ])('$prediction vs $answers: official $official, lavis $lavis', ({ prediction, answers, official: o, lavis: l }) => {
    expect(vqaAccuracy(prediction, answers, 'official')).toBeCloseTo(o, 15);
    expect(vqaAccuracy(prediction, answers, 'lavis')).toBeCloseTo(l, 15);
  });

  test('a rounding tie: 5 of 8 right is 62.5 %; Python 2 rounds it away from zero, Python 3 to even', () => {
    const score = (variant: VqaVariantName): number => {
      const metric = new VqaMetric({ variant, decimals: 0 });
      for (let i = 0; i < 8; i++) metric.update({ id: String(i), prediction: i < 5 ? 'cat' : 'dog', answers: ten('cat') });
      return metric.compute().scores.accuracy!;
    };
    expect(score('official')).toBe(63);
    expect(score('lavis')).toBe(62);
  });
});

describe('the default is the official evaluation', () => {
  test('config', () => {
    expect(vqaConfigSchema.parse({})).toEqual({ variant: 'official', decimals: 2 });
    expect(() => vqaConfigSchema.parse({ variant: 'vqav2' })).toThrow(/official.*lavis|lavis.*official/);
  });

  test('provider and scorer', () => {
    const metric = vqaMetric.create(vqaMetric.configSchema.parse({}));
    metric.update({ kind: 'vqa', id: 'q', prediction: 'Yes', answers: Array(10).fill('yes') });
    expect(metric.compute().scores.accuracy).toBe(0);
    expect(vqaAccuracy('Yes', Array(10).fill('yes'))).toBe(0);
  });
});
