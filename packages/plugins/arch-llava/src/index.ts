// @mmft/arch-llava: the plugin object (a pure manifest; nothing registers on import).
import { definePlugin } from '@mmft/core';
import { llavaProvider } from './plugin';

export { llavaProvider } from './plugin';
export {
  llavaConfigSchema,
  llavaConfigJsonSchema,
  parseLlavaConfig,
  LLAVA_DEFAULT_VISION_CONFIG,
  type LlavaConfig,
  type LlavaConfigJson,
  type LlavaConfigInput,
} from './config';
export { LlavaForConditionalGeneration, type LlavaFromConfigOptions, type LlavaOutputs } from './llava-for-conditional-generation';
export { LlavaProjector, projectorShape, type ProjectorShape } from './projector';
export { LLAVA_TOWERS, expandImageTokens, llavaProcessor, numImageTokens, parseLlavaImageProcessing } from './processor';
export { composeLlava, type LlavaComposeReport } from './compose';
export { llavaInitSchema, type LlavaInit } from './init-schema';
export { IMAGE_TOKEN } from './image-token';
export { basePrefixOf, toHubKey, toTransformersKey, type KeyLayout } from './key-layout';

const pkg = require('../package.json') as { name: string; version: string };

const plugin = definePlugin({
  name: pkg.name,
  version: pkg.version,
  description:
    'LLaVA (Hugging Face LlavaForConditionalGeneration): vision tower and causal LM through the registry, multi-modal projector, <image> expansion',
  provides: [llavaProvider],
});
export default plugin;
