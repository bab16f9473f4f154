// @mmft/arch-gpt2: Hugging Face GPT2LMHeadModel for mmft — checkpoint folders in HF layout, the
// module tree (its Conv1D layers are core's, @mmft/core/nn), loss / generate / save through core's
// CausalLMBase. Tiny checkpoints and a plain-JS reference forward for tests are in @mmft/arch-gpt2/testing.
import { definePlugin } from '@mmft/core';
import { gpt2Provider } from './plugin';

export * from './config';
export { gpt2Provider } from './plugin';
export { GPT2LMHeadModel, GPT2_IGNORED_BUFFERS, gpt2Towers, type Gpt2FromConfigOptions } from './gpt2-lm-head-model';
export {
  GPT2_TIED_WEIGHTS,
  Gpt2Attention,
  Gpt2Block,
  Gpt2LMHeadRoot,
  Gpt2Mlp,
  Gpt2Model,
  type Gpt2BlockContext,
  type Gpt2StackInputs,
} from './model/gpt2-model';
export { gpt2InitRule, initGpt2Weights } from './model/init-weights';
export { GPT2_ATTRIBUTE_MAP, GPT2_MODEL_TYPES, innerDim, parseGpt2Config } from './checkpoint/parse-config';

const pkg = require('../package.json') as { name: string; version: string };

/** The plugin object the CLI and recipes load as "@mmft/arch-gpt2". */
const plugin = definePlugin({
  name: pkg.name,
  version: pkg.version,
  description: 'GPT-2 (Hugging Face GPT2LMHeadModel): causal language model on HF checkpoints',
  provides: [gpt2Provider],
});
export default plugin;
