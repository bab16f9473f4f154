// Tests only: tiny Llama-, OPT- and GPT-2-shaped causal LMs assembled from core's nn blocks
// (CausalSelfAttention, attendCausal, RotaryEmbedding, RMSNorm, LayerNorm, Conv1D) under the Hugging
// Face state-dict names, since this package's tests may not import the architecture plugins
// (docs/conventions.md §20). Their forward is the tfjs computation the exported graphs must match;
// generate() runs core's decoding loop over core's DynamicCache.
// One file per family (tiny-llama, tiny-opt, tiny-gpt2) over what they share (tiny-decoder-base).
export { tinyGpt2 } from './tiny-gpt2.fixture';
export { tinyLlama } from './tiny-llama.fixture';
export { tinyOpt } from './tiny-opt.fixture';
