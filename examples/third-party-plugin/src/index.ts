// The plugin object this package default-exports: a manifest plus `register`. It imports only
// @mmft/core's public contracts, so it works with any mmft install that satisfies the peer range.
import { registerProviders, type MetricProvider, type MmftPlugin, type TextInput } from '@mmft/core';
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
  create: (config) => new ExactMatch(configSchema.parse(config)),
};

const plugin: MmftPlugin = {
  meta: { name: 'mmft-plugin-exact-match', version: '1.0.0', description: 'exact-match accuracy metric' },
  provides: [exactMatchMetric as MetricProvider],
  register: (container) => registerProviders(container, plugin.provides),
};

export { ExactMatch };
export default plugin;
