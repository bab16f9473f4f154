// @mmft/arch-blip2: the plugin object (a pure manifest; nothing registers on import).
import { definePlugin } from '@mmft/core';
import { blip2Provider } from './plugin';

export { blip2Provider } from './plugin';
export { blip2ConfigSchema, type Blip2Config } from './config';

const pkg = require('../package.json') as { name: string; version: string };

const plugin = definePlugin({ name: pkg.name, version: pkg.version, description: 'BLIP-2 (Hugging Face Blip2ForConditionalGeneration): EVA ViT vision encoder, Q-Former bridge, language projection, any causal LM through the registry', provides: [blip2Provider] });
export default plugin;
