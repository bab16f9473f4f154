// @mmft/arch-llama: Hugging Face LlamaForCausalLM for mmft — checkpoint folders in HF layout (single
// or sharded, F32/F16/BF16), the decoder with rotary positions and grouped-query attention, generate()
// through core, and a tiny checkpoint writer for tests.
import { definePlugin } from '@mmft/core';
import { llamaProvider } from './plugin';

export * from './config';
export { llamaProvider } from './plugin';
export { LlamaForCausalLM, type LlamaFromConfigOptions } from './llama-for-causal-lm';
export {
  LlamaDecoderLayer,
  LlamaForCausalLMRoot,
  LlamaMLP,
  LlamaModel,
  type LlamaLayerContext,
  type LlamaModelInputs,
} from './model/llama-model';
export { initLlamaWeights } from './model/init-weights';
export { LLAMA_MODEL_TYPES, parseLlamaConfig, ropeScalingOf } from './checkpoint/parse-config';
export { llamaProcessor, llamaTowers } from './processor';

const pkg = require('../package.json') as { name: string; version: string };

/** The plugin object the CLI and recipes load as "@mmft/arch-llama". */
const plugin = definePlugin({
  name: pkg.name,
  version: pkg.version,
  description: 'Llama (Hugging Face LlamaForCausalLM): causal language model on HF checkpoints',
  provides: [llamaProvider],
});
export default plugin;
