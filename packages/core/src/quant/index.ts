// @mmft/core/quant: bitsandbytes' 4-bit weight format (NF4/FP4, blockwise absmax, double quantisation),
// its Hugging Face checkpoint layout and the `quantization:` recipe section. docs/qlora.md describes it.

export * from './codebooks';
export * from './bnb4';
export * from './quant-state';
export * from './hf-config';
