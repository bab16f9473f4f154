// @mmft/peft-adapter: bottleneck adapters (Houlsby / Pfeiffer) for any mmft model, selected by
// module name so the same plugin serves CLIP, Q-Formers and LLMs.
import { registerProviders, type MmftPlugin } from '@mmft/core';
import { bottleneckMethod } from './plugin';

export { adapterConfigSchema, BOTTLENECK_PEFT_TYPE, type BottleneckConfig } from './config';
export { blockWidth, BottleneckWrapper } from './layer';
export { applyBottleneck } from './model';
export { bottleneckMethod } from './plugin';

const provides = [bottleneckMethod];

/** The plugin object recipes and the CLI load as "@mmft/peft-adapter". */
const plugin: MmftPlugin = {
  meta: { name: '@mmft/peft-adapter', version: '0.1.0', description: 'Bottleneck adapters (Houlsby / Pfeiffer)' },
  provides,
  register: (container) => registerProviders(container, provides),
};
export default plugin;
