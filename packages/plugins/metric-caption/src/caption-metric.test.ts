// The caption metric against golden numbers from test-fixtures/caption_checker.py, our own
// plain-Python re-implementation of pycocoevalcap's definitions (regenerate: python3
// test-fixtures/caption_checker.py > test-fixtures/caption-golden.json).
import { describe, expect, test } from '@jest/globals';
import { describeMetric } from '@mmft/core/testing';
import golden from '../test-fixtures/caption-golden.json';
import type { TextInput } from '@mmft/core';
import { CaptionMetric } from './caption-metric';
import { ciderItem, ciderScores } from './cider';
import { captionMetric } from './plugin';

interface GoldenCase {
  predictions: Record<string, string>;
  references: Record<string, string[]>;
  scores: Record<string, number>;
  per_item: Record<string, Record<string, number>>;
}

const updatesOf = (c: GoldenCase): TextInput[] =>
  Object.keys(c.predictions).map((id) => ({ kind: 'text', id, prediction: c.predictions[id]!, references: c.references[id]! }));

describe('caption metric vs the independent checker', () => {
  for (const [name, c] of Object.entries(golden as Record<string, GoldenCase>)) {
    for (const tokenizer of ['none', 'ptb'] as const) {
      test(`${name} (${tokenizer} tokenizer)`, () => {
        const metric = new CaptionMetric({ tokenizer, sigma: 6 });
        metric.update(updatesOf(c));
        const report = metric.compute();
        for (const [score, value] of Object.entries(c.scores)) expect(report.scores[score]).toBeCloseTo(value, 12);
        for (const [id, item] of Object.entries(c.per_item)) {
          for (const [score, value] of Object.entries(item)) expect(report.perItem![id]![score]).toBeCloseTo(value, 12);
        }
      });
    }
  }
});

describe('cider edge cases', () => {
  test('a single image: every idf is log(1) - log(1) = 0, so CIDEr is 0 (no NaN)', () => {
    expect(ciderScores([ciderItem(['a', 'cat'], [['a', 'cat']])])).toEqual([0]);
  });

  test('candidate equal to its only reference in a 2-image set: cosine 1 for every order → 10', () => {
    const items = [ciderItem('a b c d e'.split(' '), [['a', 'b', 'c', 'd', 'e']]), ciderItem(['x'], [['y', 'z']])];
    expect(ciderScores(items)[0]).toBeCloseTo(10, 12);
  });
});

describe('caption metric input checks', () => {
  test('duplicate ids and empty reference lists are refused', () => {
    const m = new CaptionMetric({ tokenizer: 'ptb', sigma: 6 });
    m.update({ id: '1', prediction: 'a', references: ['a'] });
    expect(() => m.update({ id: '1', prediction: 'b', references: ['b'] })).toThrow(/given twice/);
    expect(() => m.update({ id: '2', prediction: 'b', references: [] })).toThrow(/no reference/);
  });
});

describeMetric(captionMetric, { config: {}, updates: updatesOf((golden as Record<string, GoldenCase>).mixed!) });
