// @mmft/core/lm: what every causal language model shares (OPTForCausalLM, GPT2LMHeadModel,
// LlamaForCausalLM): transformers' causal-LM loss, the CausalLMBase class (forward with loss,
// generate through @mmft/core/generation, save_pretrained's layout), reading a checkpoint folder,
// loading its tensors with tied weights (and bitsandbytes 4-bit Linear weights), and the tied output projection.
export { causalLmLoss, IGNORE_INDEX } from './loss';
export { CausalLMBase, type CausalLMParts } from './causal-lm-base';
export { generationConfigFromModelConfig, TRANSFORMERS_VERSION } from './generation-config';
export { loadCausalLmFolder, type CausalLmFolder, type LoadCausalLmFolderOptions } from './load-folder';
export { loadCausalLmWeights, type LoadCausalLmWeightsOptions, type LoadCausalLmWeightsResult } from './load-weights';
export { causalLmTensors, saveCausalLmFolder, type CausalLmFolderContents } from './save';
export {
  quantizationConfigOf,
  quantizedLinearTensors,
  takeQuantizedLinears,
  type TakeQuantizedLinearsOptions,
  type TakeQuantizedLinearsResult,
} from './quantized-weights';
export { TiedLinear } from './tied-linear';
