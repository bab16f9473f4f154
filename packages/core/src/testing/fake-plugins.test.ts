import { countingMetric } from './fake-plugins';
import { describeMetric } from './describe-metric';

// The kit runs against core's own test metric, so a broken kit fails here first.
describeMetric(countingMetric, { config: { scale: 2 }, updates: ['a', 'b', 'c'] });

// And the fake metric itself, which other packages' registry and recipe tests rely on.
import { expect, test } from '@jest/globals';

test('countingMetric counts updated items times scale and resets', () => {
  const metric = countingMetric.create({ scale: 2 });
  metric.update(['a', 'b']);
  metric.update('c');
  expect(metric.compute().scores).toEqual({ count: 6 });
  metric.reset();
  expect(metric.compute().scores).toEqual({ count: 0 });
});
