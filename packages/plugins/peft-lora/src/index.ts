// @mmft/peft-lora: LoRA for any mmft model (CLIP today, the Q-Former and LLM of vision→LLM
// bridges tomorrow): the method provider "lora", the LoraLinear layer and the injector.
import { definePlugin } from '@mmft/core';
import { loraMethod } from './plugin';

export { loraConfigSchema, loraScaling, type LoraConfig } from './config';
export { LoraLinear, type LoraAdapterSettings } from './layer';
export { applyLora } from './model';
export { loraMethod } from './plugin';

const pkg = require('../package.json') as { name: string; version: string };
const provides = [loraMethod];

/** The plugin object recipes and the CLI load as "@mmft/peft-lora". */
const plugin = definePlugin({ name: pkg.name, version: pkg.version, description: 'LoRA (PEFT-compatible)', provides });
export default plugin;
