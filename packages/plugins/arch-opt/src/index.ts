// @mmft/arch-opt: transformers' OPTForCausalLM for mmft — OPTConfig with HF's defaults, the module
// tree under HF's state-dict names, checkpoint folders in HF layout, generation through core.
import { definePlugin } from '@mmft/core';
import { optProvider } from './plugin';

export * from './config';
export { optProvider } from './plugin';
export { hasFinalLayerNorm, hasProjections, OPT_MODEL_TYPES, parseOptConfig } from './checkpoint/parse-config';
export { OPTForCausalLM, optTowers, type OptFromConfigOptions } from './opt-model';
export { OptForCausalLMRoot, OPT_TIED_WEIGHTS } from './model/opt-root';
export {
  OptDecoder,
  OptDecoderLayer,
  OptLearnedPositionalEmbedding,
  OptModel,
  type OptDecoderInputs,
  type OptLayerInputs,
} from './model/decoder';

const pkg = require('../package.json') as { name: string; version: string };

/** The plugin object the CLI and recipes load as "@mmft/arch-opt". */
const plugin = definePlugin({
  name: pkg.name,
  version: pkg.version,
  description: 'OPT (Hugging Face OPTForCausalLM): causal language model on HF checkpoints',
  provides: [optProvider],
});
export default plugin;
