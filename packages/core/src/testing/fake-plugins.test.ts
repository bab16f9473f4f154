import { countingMetric } from './fake-plugins';
import { describeMetric } from './describe-metric';

// The kit runs against core's own test metric, so a broken kit fails here first.
describeMetric(countingMetric, { config: { scale: 2 }, updates: ['a', 'b', 'c'] });
