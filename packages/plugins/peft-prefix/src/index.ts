// @mmft/peft-prefix: prefix tuning (any model with MultiHeadAttention) and prompt tuning (any
// model declaring a PromptInjectionPoint), saved as Hugging Face PEFT saves them.
import { definePlugin } from '@mmft/core';
import { prefixTuningMethod, promptTuningMethod } from './plugin';

export { prefixTuningSchema, promptTuningSchema, type PrefixTuningConfig, type PromptTuningConfig } from './config';
export { PrefixEncoder, type PrefixShape } from './prefix-encoder';
export { PrefixAttention } from './prefix-layer';
export { applyPrefixTuning } from './prefix-model';
export { applyPromptTuning, PromptEmbedding } from './prompt-model';
export { prefixTuningMethod, promptTuningMethod } from './plugin';

const pkg = require('../package.json') as { name: string; version: string };
const provides = [prefixTuningMethod, promptTuningMethod];

/** The plugin object recipes and the CLI load as "@mmft/peft-prefix". */
const plugin = definePlugin({
  name: pkg.name,
  version: pkg.version,
  description: 'Prefix tuning and prompt tuning (PEFT-compatible files)',
  provides,
});
export default plugin;
