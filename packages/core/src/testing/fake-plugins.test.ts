import { countingMetric } from './fake-plugins';
import { describeMetric } from './describe-metric';

// The kit runs against core's own test metric, so a broken kit fails here first.
const text = (id: string) => ({ kind: 'text' as const, id, prediction: id, references: [id] });
describeMetric(countingMetric, { config: { scale: 2 }, updates: [text('a'), text('b'), text('c')] });

// And the fake metric itself, which other packages' registry and recipe tests rely on.
import { expect, test } from '@jest/globals';

test('countingMetric counts updated items times scale and resets', () => {
  const metric = countingMetric.create({ scale: 2 });
  metric.update([text('a'), text('b')]);
  metric.update(text('c'));
  expect(metric.compute().scores).toEqual({ count: 6 });
  metric.reset();
  expect(metric.compute().scores).toEqual({ count: 0 });
});
