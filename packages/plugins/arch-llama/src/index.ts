// @mmft/arch-llama: the plugin object (a pure manifest; nothing registers on import).
import { definePlugin } from '@mmft/core';
import { llamaProvider } from './plugin';

export { llamaProvider } from './plugin';
export { llamaConfigSchema, type LlamaConfig } from './config';

const pkg = require('../package.json') as { name: string; version: string };

const plugin = definePlugin({ name: pkg.name, version: pkg.version, description: 'Llama (Hugging Face LlamaForCausalLM): causal language model on HF checkpoints', provides: [llamaProvider] });
export default plugin;
