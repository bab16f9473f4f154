// The nn module system of mmft (`@mmft/core/nn`): a PyTorch-style module tree over
// @tensorflow/tfjs-core whose parameter names equal Hugging Face state-dict keys.

export { Module, type AnyModule } from './module';
export { ModuleList } from './module-list';
export { Linear, type LinearOptions, type PackedWeight16, type PackedWeight4bit } from './linear';
export { Conv1D, type Conv1DOptions } from './conv1d';
export { isRegistered, runFused } from '../kernels';
export { repeatBatch } from './repeat-batch';
export { Embedding, type EmbeddingOptions } from './embedding';
export { LayerNorm, type LayerNormOptions } from './layer-norm';
export { Conv2d, type Conv2dOptions } from './conv2d';
export { Dropout, watchDropouts, type DropoutOptions } from './dropout';
export { ACTIVATIONS, getActivation, gelu, geluNew, geluTanh, quickGelu, relu, silu, type Activation } from './activations';
export { maskedSoftmax } from './softmax';
export { MultiHeadAttention, type AttentionInputs, type AttentionProjectionNames, type MultiHeadAttentionOptions } from './attention';
export { DynamicCache } from './kv-cache';
export { MASK_MIN, causalLmMask, causalMask, combineMasks, extendMaskForPrefix, paddingMask, positionIdsFromMask } from './masks';
export { RMSNorm, rmsNorm, type RMSNormOptions } from './rms-norm';
export { RotaryEmbedding, applyRotary, rotateHalf, type RopeScaling, type RotaryCosSin, type RotaryEmbeddingOptions } from './rotary';
export {
  CausalSelfAttention,
  attendCausal,
  repeatKeyValueHeads,
  type AttendCausalInputs,
  type CausalAttentionNames,
  type CausalSelfAttentionInputs,
  type CausalSelfAttentionOptions,
} from './causal-attention';
export { attentionRecorder, recordAttention } from './attention-record';
export { deriveSeed, fanInUniform, normal, ones, uniform, zeros, type Initializer } from './init';
export { globToRegExp, type NamePattern } from './naming';
export type { LoadStateDictOptions, LoadStateDictResult, StateDictInput, StateDictSource } from './state-dict';
export { registerGradients } from './gradients';
export {
  blockStack,
  checkpointed,
  gradientCheckpointingOf,
  runBlocks,
  setGradientCheckpointing,
  type CheckpointedOptions,
  type GradientCheckpointing,
  type RunBlocksOptions,
} from './checkpoint';
export {
  HALF16_FORMATS,
  bf16BitsToFloat,
  fp16BitsToFloat,
  packBits16,
  packWeights16,
  roundToBf16Bits,
  roundToFp16Bits,
  unpackHalves16,
  unpackWeights16,
  type Half16Format,
} from './packed16';
export { frozenWeights16, restoreFrozenWeights32, storeFrozenWeights16, type StoreFrozenWeights16Result } from './frozen16';
export {
  linears4bit,
  quantizeLinears4bit,
  quantizeOptionsOf,
  quantizedWeights4bit,
  skipsModule,
  type QuantizeLinears4bitOptions,
  type QuantizeLinears4bitResult,
} from './quant4';
export { dequantize4bitOps } from './unpack4bit';
