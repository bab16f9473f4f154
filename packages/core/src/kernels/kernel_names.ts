// mmft's fused kernels, named once (as tfjs-core/src/kernel_names.ts names the stock ones): the
// callers (@mmft/core's nn modules, the trainer's optimizer) run them by these names, and a
// backend plugin (@mmft/backend-tfjs) registers kernels under the same names with tfjs-core's
// registerKernel. tfjs has none of these kernels; where the active backend lacks one, the caller
// runs its composite ops (runFused returns undefined). The native addon's symbols are these
// names too (packages/native-kernels/src/kernels.ts). docs/backends.md has the table.
import type { TensorInfo } from '@tensorflow/tfjs-core';

/** LayerNorm over the last axis with affine weight: inputs x [..., D], gamma [D], beta [D]; output y like x. */
export const LayerNorm = 'MmftLayerNorm';
export type LayerNormInputs = { x: TensorInfo; gamma: TensorInfo; beta: TensorInfo };
export interface LayerNormAttrs {
  eps: number;
}
/** Backward of LayerNorm: inputs dy, x, gamma; outputs [dx, dgamma, dbeta]. */
export const LayerNormGrad = 'MmftLayerNormGrad';
export type LayerNormGradInputs = { dy: TensorInfo; x: TensorInfo; gamma: TensorInfo };
export type LayerNormGradAttrs = LayerNormAttrs;

/** x·σ(1.702·x) (CLIP's quick_gelu): input x; output like x. */
export const QuickGelu = 'MmftQuickGelu';
export type QuickGeluInputs = { x: TensorInfo };
/** Backward of QuickGelu: inputs dy, x; output dx. */
export const QuickGeluGrad = 'MmftQuickGeluGrad';
export type QuickGeluGradInputs = { dy: TensorInfo; x: TensorInfo };

/** Exact GELU x·Φ(x): input x; output like x. */
export const Gelu = 'MmftGelu';
export type GeluInputs = { x: TensorInfo };
/** Backward of Gelu: inputs dy, x; output dx. */
export const GeluGrad = 'MmftGeluGrad';
export type GeluGradInputs = { dy: TensorInfo; x: TensorInfo };

/** One AdamW step of one parameter: inputs param, grad, expAvg, expAvgSq; outputs [param, expAvg, expAvgSq]. */
export const AdamWUpdate = 'MmftAdamWUpdate';
export type AdamWUpdateInputs = { param: TensorInfo; grad: TensorInfo; expAvg: TensorInfo; expAvgSq: TensorInfo };
export interface AdamWUpdateAttrs {
  lr: number;
  beta1: number;
  beta2: number;
  eps: number;
  /** 0 for parameters that do not decay. */
  weightDecay: number;
  /** The step count after this update (1 on the first), for bias correction. */
  step: number;
}

/** Softmax over the last axis: input logits; output y like logits. */
export const Softmax = 'MmftSoftmax';
export type SoftmaxInputs = { logits: TensorInfo };
/** Backward of Softmax: inputs dy, y; output dlogits. */
export const SoftmaxGrad = 'MmftSoftmaxGrad';
export type SoftmaxGradInputs = { dy: TensorInfo; y: TensorInfo };

/**
 * Attention's masked softmax: softmax(max(logits + mask, minValue)) over the last axis. Inputs
 * logits [B, H, T, S] and an additive mask broadcastable to it with S keys ([B|1, H|1, T|1, S]).
 */
export const MaskedSoftmax = 'MmftMaskedSoftmax';
export type MaskedSoftmaxInputs = { logits: TensorInfo; mask: TensorInfo };
export interface MaskedSoftmaxAttrs {
  /** The clamp (@mmft/core's MASK_MIN): keeps fully masked rows finite. */
  minValue: number;
}
/** Backward of MaskedSoftmax: inputs dy, y, logits, mask; output dlogits (zero where clamped). */
export const MaskedSoftmaxGrad = 'MmftMaskedSoftmaxGrad';
export type MaskedSoftmaxGradInputs = { dy: TensorInfo; y: TensorInfo; logits: TensorInfo; mask: TensorInfo };
export type MaskedSoftmaxGradAttrs = MaskedSoftmaxAttrs;

/**
 * Multi-head attention core: inputs q [B, T, D], k and v [B, S, D], an additive mask
 * [B|1, H|1, T|1, S]; output context [B, T, D] = softmax(max(q·kᵀ·scale + mask, minValue))·v per head.
 */
export const Attention = 'MmftAttention';
export type AttentionInputs = { q: TensorInfo; k: TensorInfo; v: TensorInfo; mask: TensorInfo };
export interface AttentionAttrs {
  numHeads: number;
  /** Multiplies the scores (1/√headDim). */
  scale: number;
  /** The clamp (@mmft/core's MASK_MIN). */
  minValue: number;
}
/** Backward of Attention: inputs dy, q, k, v, mask; outputs [dq, dk, dv]. */
export const AttentionGrad = 'MmftAttentionGrad';
export type AttentionGradInputs = AttentionInputs & { dy: TensorInfo };
export type AttentionGradAttrs = AttentionAttrs;

/** A Linear layer y = x·Wᵀ + b: inputs x [..., in], weight [out, in], bias [out]; output [..., out]. */
export const Linear = 'MmftLinear';
export type LinearInputs = { x: TensorInfo; weight: TensorInfo; bias: TensorInfo };
/** The same without a bias: inputs x, weight. */
export const LinearNoBias = 'MmftLinearNoBias';
export type LinearNoBiasInputs = { x: TensorInfo; weight: TensorInfo };
/** dx = dy·W: inputs dy [..., out], weight [out, in]; output [..., in]. */
export const LinearGradInput = 'MmftLinearGradInput';
export type LinearGradInputInputs = { dy: TensorInfo; weight: TensorInfo };
/** dW = dyᵀ·x over every leading position: inputs dy [..., out], x [..., in]; output [out, in]. */
export const LinearGradWeight = 'MmftLinearGradWeight';
export type LinearGradWeightInputs = { dy: TensorInfo; x: TensorInfo };

/**
 * A product with a frozen weight held in 16 bits (Linear's storeWeight16): inputs x [..., k] float32
 * and weight int32, the bf16 or fp16 bit patterns of a [rows, cols] weight two per element, the
 * first in the low half (@mmft/core/nn packed16.ts); output [..., n] float32, decoded inside the
 * kernel: x·Wᵀ when transposeWeight (k = cols, n = rows: Linear's forward), else x·W (k = rows,
 * n = cols: its input gradient). No gradient flows to the weight.
 */
export const MatMulPacked16 = 'MmftMatMulPacked16';
export type MatMulPacked16Inputs = { x: TensorInfo; weight: TensorInfo };
export interface MatMulPacked16Attrs {
  /** The weight's logical shape [rows, cols]. */
  rows: number;
  cols: number;
  format: 'bf16' | 'fp16';
  transposeWeight: boolean;
}

/**
 * A product with a frozen weight held in 4 bits, blockwise as bitsandbytes stores it (Linear's
 * storeWeight4bit; format in @mmft/core/quant): inputs x [..., k] float32; packed int32
 * [⌈⌈rows·cols/2⌉/4⌉], the packed bytes (element 2j in the high nibble) viewed little-endian as int32,
 * zero-padded; absmax float32 [⌈rows·cols/blockSize⌉] (de-nested per-block scales); code float32
 * [16] (the quant_map). W[i] = code[nibble(i)]·absmax[⌊i/blockSize⌋] over the row-major [rows, cols]
 * weight. Output [..., n] float32: x·Wᵀ when transposeWeight (k = cols, n = rows: Linear's forward),
 * else x·W (k = rows, n = cols: its input gradient). No gradient flows to the weight.
 */
export const MatMul4bit = 'MmftMatMul4bit';
export type MatMul4bitInputs = { x: TensorInfo; packed: TensorInfo; absmax: TensorInfo; code: TensorInfo };
export interface MatMul4bitAttrs {
  /** The weight's logical shape [rows, cols]. */
  rows: number;
  cols: number;
  /** Elements per absmax block (32 … 4096, a power of two). */
  blockSize: number;
  transposeWeight: boolean;
}
/**
 * The 4-bit weight decoded: inputs packed, absmax, code as MatMul4bit's; output float32 [rows, cols].
 * Named here for the CUDA package's symbol and the cpu kernel.
 */
export const Dequantize4bit = 'MmftDequantize4bit';
export type Dequantize4bitInputs = { packed: TensorInfo; absmax: TensorInfo; code: TensorInfo };
export interface Dequantize4bitAttrs {
  rows: number;
  cols: number;
  blockSize: number;
}

/** Σ g² over any number of float32 tensors (inputs an array, as AddN's); output a float32 scalar. */
export const SumOfSquares = 'MmftSumOfSquares';
export type SumOfSquaresInputs = TensorInfo[];

/**
 * Cross-entropy over the last axis (torch.nn.functional.cross_entropy with ignore_index, as
 * transformers' ForCausalLMLoss calls it): inputs logits [..., V] float32 and labels [...] int32;
 * outputs [loss, lse], both [...] float32: lse = log Σ exp(logits) per row, loss = lse −
 * logits[label], 0 where the label is ignoreIndex (lse is still written there).
 */
export const CrossEntropy = 'MmftCrossEntropy';
export type CrossEntropyInputs = { logits: TensorInfo; labels: TensorInfo };
export interface CrossEntropyAttrs {
  /** The label that scores nothing (-100, transformers' and torch's default). */
  ignoreIndex: number;
}
/**
 * Backward of CrossEntropy: inputs dy and dlse [...] (the gradients of its two outputs), logits,
 * labels and the forward pass's lse; output dlogits = exp(logits − lse)·(dy + dlse) −
 * onehot(label)·dy, where dy does not reach ignored rows (0 there when dlse is). No [..., V]
 * softmax is kept between the two passes.
 */
export const CrossEntropyGrad = 'MmftCrossEntropyGrad';
export type CrossEntropyGradInputs = { dy: TensorInfo; dlse: TensorInfo; logits: TensorInfo; labels: TensorInfo; lse: TensorInfo };
export type CrossEntropyGradAttrs = CrossEntropyAttrs;

/** No attributes. */ /** No attributes. */
type NoAttrs = Record<never, never>;

/**
 * Every fused kernel by name: its inputs, attributes and whether it returns one tensor or several.
 * runFused reads its types from here; a backend's kernel functions take the same inputs and attrs.
 */
export interface FusedKernelTable {
  [LayerNorm]: { inputs: LayerNormInputs; attrs: LayerNormAttrs; outputs: 1 };
  [LayerNormGrad]: { inputs: LayerNormGradInputs; attrs: LayerNormGradAttrs; outputs: 3 };
  [QuickGelu]: { inputs: QuickGeluInputs; attrs: NoAttrs; outputs: 1 };
  [QuickGeluGrad]: { inputs: QuickGeluGradInputs; attrs: NoAttrs; outputs: 1 };
  [Gelu]: { inputs: GeluInputs; attrs: NoAttrs; outputs: 1 };
  [GeluGrad]: { inputs: GeluGradInputs; attrs: NoAttrs; outputs: 1 };
  [AdamWUpdate]: { inputs: AdamWUpdateInputs; attrs: AdamWUpdateAttrs; outputs: 3 };
  [Softmax]: { inputs: SoftmaxInputs; attrs: NoAttrs; outputs: 1 };
  [SoftmaxGrad]: { inputs: SoftmaxGradInputs; attrs: NoAttrs; outputs: 1 };
  [MaskedSoftmax]: { inputs: MaskedSoftmaxInputs; attrs: MaskedSoftmaxAttrs; outputs: 1 };
  [MaskedSoftmaxGrad]: { inputs: MaskedSoftmaxGradInputs; attrs: MaskedSoftmaxGradAttrs; outputs: 1 };
  [Attention]: { inputs: AttentionInputs; attrs: AttentionAttrs; outputs: 1 };
  [AttentionGrad]: { inputs: AttentionGradInputs; attrs: AttentionGradAttrs; outputs: 3 };
  [Linear]: { inputs: LinearInputs; attrs: NoAttrs; outputs: 1 };
  [LinearNoBias]: { inputs: LinearNoBiasInputs; attrs: NoAttrs; outputs: 1 };
  [LinearGradInput]: { inputs: LinearGradInputInputs; attrs: NoAttrs; outputs: 1 };
  [LinearGradWeight]: { inputs: LinearGradWeightInputs; attrs: NoAttrs; outputs: 1 };
  [MatMulPacked16]: { inputs: MatMulPacked16Inputs; attrs: MatMulPacked16Attrs; outputs: 1 };
  [MatMul4bit]: { inputs: MatMul4bitInputs; attrs: MatMul4bitAttrs; outputs: 1 };
  [Dequantize4bit]: { inputs: Dequantize4bitInputs; attrs: Dequantize4bitAttrs; outputs: 1 };
  [SumOfSquares]: { inputs: SumOfSquaresInputs; attrs: NoAttrs; outputs: 1 };
  [CrossEntropy]: { inputs: CrossEntropyInputs; attrs: CrossEntropyAttrs; outputs: 2 };
  [CrossEntropyGrad]: { inputs: CrossEntropyGradInputs; attrs: CrossEntropyGradAttrs; outputs: 1 };
}

/** The name of one of mmft's fused kernels. */
export type FusedKernelName = keyof FusedKernelTable;

/** Every fused kernel name, in the table's order. */
export const FUSED_KERNELS = [
  LayerNorm,
  LayerNormGrad,
  QuickGelu,
  QuickGeluGrad,
  Gelu,
  GeluGrad,
  AdamWUpdate,
  Softmax,
  SoftmaxGrad,
  MaskedSoftmax,
  MaskedSoftmaxGrad,
  Attention,
  AttentionGrad,
  Linear,
  LinearNoBias,
  LinearGradInput,
  LinearGradWeight,
  MatMulPacked16,
  MatMul4bit,
  Dequantize4bit,
  SumOfSquares,
  CrossEntropy,
  CrossEntropyGrad,
] as const satisfies readonly FusedKernelName[];

// A kernel added to the table but not to the list fails to compile here.
const everyKernelListed: Exclude<FusedKernelName, (typeof FUSED_KERNELS)[number]> extends never ? true : never = true;
void everyKernelListed;
