// @mmft/handoff-accelerate: the plugin object (docs/conventions.md §5) plus the target for direct use.
import { definePlugin } from '@mmft/core';
import { accelerateTarget } from './plugin';

export { accelerateTarget } from './plugin';
export { accelerateConfigSchema, type AccelerateTargetConfig, type AccelerateTargetConfigInput } from './config';

const pkg = require('../package.json') as { name: string; version: string };

/**
 * The plugin manifest.
 *
 * @example
 * registry.use(plugin, '@mmft/handoff-accelerate'); registry.resolve('handoff', 'accelerate');
 */
const plugin = definePlugin({
  name: pkg.name,
  version: pkg.version,
  description: 'Hugging Face accelerate handoff target for mmft handoff (Trainer + peft script bundle)',
  provides: [accelerateTarget],
});
export default plugin;
