// @mmft/arch-idefics: the plugin object (a pure manifest; nothing registers on import).
import { definePlugin } from '@mmft/core';
import { ideficsProvider } from './plugin';

export { ideficsProvider } from './plugin';
export {
  ideficsConfigJsonSchema,
  ideficsConfigSchema,
  ideficsPerceiverConfigSchema,
  ideficsVisionConfigSchema,
  parseIdeficsConfig,
  textConfigOf,
  visionConfigOf,
  type IdeficsConfig,
  type IdeficsConfigInput,
  type IdeficsConfigJson,
} from './config';
export { IdeficsForVisionText2Text, type IdeficsFromConfigOptions, type IdeficsOutputs } from './idefics-for-vision-text2text';
export { IdeficsGatedCrossAttentionLayer, IdeficsMLP, type CrossAttentionInputs } from './gated-cross-attention';
export { IdeficsPerceiverAttention, IdeficsPerceiverMLP, IdeficsPerceiverResampler, type PerceiverShape } from './perceiver';
export { crossAttentionMask, imageIndexPerToken } from './image-attention-mask';
export { IDEFICS_TOWERS, imageTokenIdOf, saveIdeficsFolder } from './save';
export { composeIdefics, IMAGE_TOKEN, type IdeficsComposeReport } from './compose';
export { ideficsInitSchema, type IdeficsInit } from './init-schema';
export { repeatKvRows } from './added-token';
export { openFlamingoToIdeficsKey, type OpenFlamingoKeyMapping } from './open-flamingo-keys';

const pkg = require('../package.json') as { name: string; version: string };

const plugin = definePlugin({
  name: pkg.name,
  version: pkg.version,
  description:
    'IDEFICS (Hugging Face IdeficsForVisionText2Text, Flamingo): Perceiver resampler and tanh-gated cross-attention over a registry vision tower and causal LM',
  provides: [ideficsProvider],
});
export default plugin;
