// @mmft/metric-retrieval: the plugin object (docs/conventions.md §5) plus the ranking helpers.
import { definePlugin } from '@mmft/core';
import { retrievalMetric } from './plugin';

export { retrievalMetric } from './plugin';
export { RetrievalMetric, type RetrievalUpdate } from './retrieval-metric';
export { retrievalConfigSchema, type RetrievalConfig } from './config';
export { computeRanks, type RetrievalRanks } from './ranks';
export { summarize, averagePrecision } from './summarize';

const pkg = require('../package.json') as { name: string; version: string };
const provides = [retrievalMetric];

/**
 * The plugin manifest.
 *
 * @example
 * registry.use(plugin, '@mmft/metric-retrieval'); registry.resolve('metric', 'retrieval');
 */
const plugin = definePlugin({ name: pkg.name, version: pkg.version, description: 'Image-text retrieval metrics', provides });
export default plugin;
