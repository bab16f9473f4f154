// @mmft/handoff-swift: the plugin object (docs/conventions.md §5) plus the target for direct use.
import { definePlugin } from '@mmft/core';
import { swiftTarget } from './plugin';

export { swiftTarget } from './plugin';
export { swiftConfigSchema, type SwiftConfig, type SwiftConfigInput } from './config';

const pkg = require('../package.json') as { name: string; version: string };

/**
 * The plugin manifest.
 *
 * @example
 * registry.use(plugin, '@mmft/handoff-swift'); registry.resolve('handoff', 'swift');
 */
const plugin = definePlugin({
  name: pkg.name,
  version: pkg.version,
  description: 'ms-swift handoff target for mmft handoff (swift sft bundle)',
  provides: [swiftTarget],
});
export default plugin;
