// @mmft/metric-retrieval: the plugin object (STYLE.md §5) plus the ranking helpers.
import { registerProviders, type MmftPlugin } from '@mmft/core';
import { retrievalMetric } from './plugin';

export { retrievalMetric } from './plugin';
export { RetrievalMetric, type RetrievalUpdate } from './retrieval-metric';
export { retrievalConfigSchema, type RetrievalConfig } from './config';
export { computeRanks, type RetrievalRanks } from './ranks';
export { summarize, averagePrecision } from './summarize';

const VERSION: string = (require('../package.json') as { version: string }).version;
const provides = [retrievalMetric];

/**
 * The plugin manifest.
 *
 * @example
 * registry.use(plugin, '@mmft/metric-retrieval'); registry.resolve('metric', 'retrieval');
 */
const plugin: MmftPlugin = {
  meta: { name: '@mmft/metric-retrieval', version: VERSION, description: 'Image-text retrieval metrics' },
  provides,
  register: (container) => registerProviders(container, provides),
};
export default plugin;
