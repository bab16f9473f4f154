// @mmft/arch-llava: the plugin object (a pure manifest; nothing registers on import).
import { definePlugin } from '@mmft/core';
import { llavaProvider } from './plugin';

export { llavaProvider } from './plugin';
export { llavaConfigSchema, type LlavaConfig } from './config';

const pkg = require('../package.json') as { name: string; version: string };

const plugin = definePlugin({ name: pkg.name, version: pkg.version, description: 'LLaVA (Hugging Face LlavaForConditionalGeneration): vision tower and causal LM through the registry, multi-modal projector, <image> expansion', provides: [llavaProvider] });
export default plugin;
