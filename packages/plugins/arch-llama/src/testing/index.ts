// @mmft/arch-llama/testing: tiny Llama checkpoints and the plain-JS reference forward, for tests of
// this and other packages. The tokenizer comes from @mmft/core/hf, so scripts can use it too.
export { createTinyLlamaCheckpoint, TINY_LLAMA_CONFIG, type TinyLlamaCheckpoint, type TinyLlamaOptions } from './tiny-checkpoint';
export {
  refCausalLmLoss,
  refGreedy,
  refLlamaLogits,
  refPositionsFromMask,
  refRmsNorm,
  refRotate,
  type RefInputs,
  type RefWeights,
} from './reference-llama';
