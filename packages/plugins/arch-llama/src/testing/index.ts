// @mmft/arch-llama/testing: tiny Llama checkpoints and the plain-JS reference forward, for tests of
// this and other packages. Imports @mmft/core/testing (hence @jest/globals): use it from tests only.
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
