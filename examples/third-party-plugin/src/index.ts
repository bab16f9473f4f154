// The plugin object this package default-exports: a manifest plus `register`. It imports only
// @mmft/core's public contracts, so it works with any mmft install that satisfies the peer range.
import { definePlugin, parseConfig, type MetricProvider, type TextInput } from '@mmft/core';
import { z } from 'zod';
import { ExactMatch, type ExactMatchConfig } from './exact-match';

const configSchema = z.object({
  caseSensitive: z.boolean().default(false).describe('compare case-sensitively'),
});

export const exactMatchMetric: MetricProvider<ExactMatchConfig, TextInput> = {
  kind: 'metric',
  id: 'exact-match',
  consumes: 'text',
  description: 'share of predictions equal to a reference (whitespace/case normalised), percent',
  configSchema,
  scores: { exact_match: 'higher' },
  create: (config) => new ExactMatch(parseConfig(exactMatchMetric, config)),
};

const pkg = require('../package.json') as { name: string; version: string };

const plugin = definePlugin({
  name: pkg.name,
  version: pkg.version,
  description: 'exact-match accuracy metric',
  provides: [exactMatchMetric as MetricProvider],
});

export { ExactMatch };
export default plugin;
