// @mmft/arch-gpt2: the plugin object (a pure manifest; nothing registers on import).
import { definePlugin } from '@mmft/core';
import { gpt2Provider } from './plugin';

export { gpt2Provider } from './plugin';
export { gpt2ConfigSchema, type Gpt2Config } from './config';

const pkg = require('../package.json') as { name: string; version: string };

const plugin = definePlugin({ name: pkg.name, version: pkg.version, description: 'GPT-2 (Hugging Face GPT2LMHeadModel): causal language model on HF checkpoints', provides: [gpt2Provider] });
export default plugin;
