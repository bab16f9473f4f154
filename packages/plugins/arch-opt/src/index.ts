// @mmft/arch-opt: the plugin object (a pure manifest; nothing registers on import).
import { definePlugin } from '@mmft/core';
import { optProvider } from './plugin';

export { optProvider } from './plugin';
export { optConfigSchema, type OptConfig } from './config';

const pkg = require('../package.json') as { name: string; version: string };

const plugin = definePlugin({ name: pkg.name, version: pkg.version, description: 'OPT (Hugging Face OPTForCausalLM): causal language model on HF checkpoints', provides: [optProvider] });
export default plugin;
