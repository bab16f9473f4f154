// @mmft/arch-gpt2/testing: a tiny GPT-2 checkpoint writer and an independent plain-JS GPT-2 forward,
// for tests of this and other packages. The tokenizer comes from @mmft/core/hf, so scripts can use it too.
export { createTinyGpt2Checkpoint, gpt2TensorShapes, type TinyGpt2Checkpoint, type TinyGpt2Options } from './tiny-checkpoint';
export {
  conv1dPlain,
  referenceCausalLmLoss,
  referenceGpt2Logits,
  referenceGreedy,
  type PlainTensor,
  type ReferenceGpt2Config,
  type ReferenceInputs,
} from './reference-gpt2';
