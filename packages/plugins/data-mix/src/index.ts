// @mmft/data-mix: the plugin object (a pure manifest; nothing registers on import).
import { definePlugin } from '@mmft/core';
import { mixProvider } from './plugin';

export { mixProvider } from './plugin';
export { mixConfigSchema, MIX_STRATEGIES, type MixConfig, type MixStrategy } from './config';
export { MixedDataset } from './mixed-dataset';
export { planSources } from './plan';

const pkg = require('../package.json') as { name: string; version: string };

const plugin = definePlugin({
  name: pkg.name,
  version: pkg.version,
  description:
    "Mixes several datasets into one (concatenated or interleaved by probabilities, as LLaMA-Factory's mix_strategy), each built through the registry",
  provides: [mixProvider],
});
export default plugin;
