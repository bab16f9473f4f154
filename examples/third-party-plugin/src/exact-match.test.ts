import { describe, expect, test } from '@jest/globals';
import { describeMetric } from '@mmft/core/testing';
import { exactMatchMetric } from './index';

describe('exact-match metric', () => {
  test('scores normalised matches and streams over batches', () => {
    const metric = exactMatchMetric.create({ caseSensitive: false });
    metric.update([{ kind: 'text', id: 'a', prediction: ' Two  dogs', references: ['two dogs'] }]);
    metric.update({ kind: 'text', id: 'b', prediction: 'cat', references: ['dog', 'puppy'] });
    const report = metric.compute();
    expect(report.scores.exact_match).toBe(50);
    expect(report.perItem).toEqual({ a: { exact_match: 100 }, b: { exact_match: 0 } });
  });

  test('case-sensitive mode', () => {
    const metric = exactMatchMetric.create({ caseSensitive: true });
    metric.update({ kind: 'text', id: 'a', prediction: 'Yes', references: ['yes'] });
    expect(metric.compute().scores.exact_match).toBe(0);
  });
});

// The kit every metric plugin runs: manifest, the `text` kind it consumes, streaming, MetricSink.
describeMetric(exactMatchMetric, {
  config: {},
  updates: [
    { kind: 'text', id: 'a', prediction: 'Two dogs', references: ['two dogs'] },
    { kind: 'text', id: 'b', prediction: 'cat', references: ['dog'] },
  ],
});
