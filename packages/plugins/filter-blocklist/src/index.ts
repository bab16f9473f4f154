// @mmft/filter-blocklist: the plugin object (docs/conventions.md §5) plus the filter for direct use.
import { definePlugin } from '@mmft/core';
import { blocklistFilter } from './plugin';

export { blocklistFilter } from './plugin';
export { BlocklistFilter } from './blocklist';
export { blocklistConfigSchema, type BlocklistConfig, type BlocklistConfigInput } from './config';
export { readTerms, type Term } from './terms';

const pkg = require('../package.json') as { name: string; version: string };

/**
 * The plugin manifest.
 *
 * @example
 * registry.use(plugin, '@mmft/filter-blocklist'); registry.resolve('filter', 'blocklist');
 */
const plugin = definePlugin({
  name: pkg.name,
  version: pkg.version,
  description: 'blocklist output filter for mmft serve (refuse or redact, English and Chinese terms)',
  provides: [blocklistFilter],
});
export default plugin;
