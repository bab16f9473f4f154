// @mmft/peft-adapter: bottleneck adapters (Houlsby / Pfeiffer) for any mmft model, selected by
// module name so the same plugin serves CLIP, Q-Formers and LLMs.
import { definePlugin } from '@mmft/core';
import { bottleneckMethod } from './plugin';

export { adapterConfigSchema, BOTTLENECK_PEFT_TYPE, type BottleneckConfig } from './config';
export { blockWidth, BottleneckWrapper } from './layer';
export { applyBottleneck } from './model';
export { bottleneckMethod } from './plugin';

const pkg = require('../package.json') as { name: string; version: string };
const provides = [bottleneckMethod];

/** The plugin object recipes and the CLI load as "@mmft/peft-adapter". */
const plugin = definePlugin({ name: pkg.name, version: pkg.version, description: 'Bottleneck adapters (Houlsby / Pfeiffer)', provides });
export default plugin;
