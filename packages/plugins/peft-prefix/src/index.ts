// @mmft/peft-prefix: prefix tuning (causal LMs at the model level, any model with
// MultiHeadAttention per layer) and prompt tuning (causal LMs, any model declaring a
// PromptInjectionPoint), saved as Hugging Face PEFT saves them.
import { definePlugin } from '@mmft/core';
import { prefixTuningMethod, promptTuningMethod } from './plugin';

export { prefixTuningSchema, promptTuningSchema, type PrefixTuningConfig, type PromptTuningConfig } from './config';
export { PrefixEncoder, type PrefixShape } from './prefix-encoder';
export { PrefixAttention } from './prefix-layer';
export { applyPrefixTuning } from './prefix-model';
export { applyPromptTuning } from './prompt-model';
export { PromptEmbedding } from './prompt-embedding';
export { applyPrefixTuningToCausalLm, applyPromptTuningToCausalLm, causalLmPrefixShape, CausalLmPrefixEncoder } from './causal-lm';
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
