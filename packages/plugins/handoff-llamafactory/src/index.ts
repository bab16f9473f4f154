// @mmft/handoff-llamafactory: the plugin object (docs/conventions.md §5) plus the target for direct use.
import { definePlugin } from '@mmft/core';
import { llamaFactoryTarget } from './plugin';

export { llamaFactoryTarget } from './plugin';
export { llamaFactoryConfigSchema, type LlamaFactoryConfig, type LlamaFactoryConfigInput } from './config';
export { LLAMAFACTORY_KEYS, LLAMAFACTORY_KEY_SOURCES } from './known-keys';
export { llamaFactoryTemplate } from './template';
export { writeLlamaFactoryBundle } from './write';

const pkg = require('../package.json') as { name: string; version: string };

/**
 * The plugin manifest.
 *
 * @example
 * registry.use(plugin, '@mmft/handoff-llamafactory'); registry.resolve('handoff', 'llamafactory');
 */
const plugin = definePlugin({
  name: pkg.name,
  version: pkg.version,
  description: 'LLaMA-Factory handoff target for mmft handoff (llamafactory-cli train bundle)',
  provides: [llamaFactoryTarget],
});
export default plugin;
