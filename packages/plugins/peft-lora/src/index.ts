// @mmft/peft-lora: LoRA for any mmft model (CLIP today, the Q-Former and LLM of vision→LLM
// bridges tomorrow): the method provider "lora", the LoraLinear layer and the injector.
import { registerProviders, type MmftPlugin } from '@mmft/core';
import { loraMethod } from './plugin';

export { loraConfigSchema, loraScaling, type LoraConfig } from './config';
export { LoraLinear, type LoraAdapterSettings } from './layer';
export { applyLora } from './model';
export { loraMethod } from './plugin';

const provides = [loraMethod];

/** The plugin object recipes and the CLI load as "@mmft/peft-lora". */
const plugin: MmftPlugin = {
  meta: { name: '@mmft/peft-lora', version: '0.1.0', description: 'LoRA (PEFT-compatible)' },
  provides,
  register: (container) => registerProviders(container, provides),
};
export default plugin;
