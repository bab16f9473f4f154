// Names of the tfjs kernels mmft replaces, one place to list them (as tfjs-core's
// src/kernel_names.ts does for the stock kernels). Overrides keep tfjs's names and signatures.
import { BatchMatMul as TfjsBatchMatMul } from '@tensorflow/tfjs-core';

/** tfjs's matrix product kernel (tf.matMul and its gradients call it). */
export const BatchMatMul: typeof TfjsBatchMatMul = TfjsBatchMatMul;

export type { BatchMatMulAttrs, BatchMatMulInputs } from '@tensorflow/tfjs-core';

/** Sum of rows by segment id: the gradient of tf.gather (embeddings) needs it; wasm lacks it. */
export { UnsortedSegmentSum } from '@tensorflow/tfjs-core';
export type { UnsortedSegmentSumAttrs, UnsortedSegmentSumInputs } from '@tensorflow/tfjs-core';

/** Sum over axes; overridden on wasm for leading-axis reductions (bias and LayerNorm gradients). */
export { Sum } from '@tensorflow/tfjs-core';
export type { SumAttrs, SumInputs } from '@tensorflow/tfjs-core';

/** Copy of a tensor: the engine clones every tensor it saves for backward through it. */
export { Identity } from '@tensorflow/tfjs-core';
/** Dtype conversion; the gradient of a clone is a float32 → float32 Cast. */
export { Cast } from '@tensorflow/tfjs-core';
export type { CastAttrs } from '@tensorflow/tfjs-core';

/** Elementwise addition with broadcasting: residual connections, biases, gradient accumulation. */
export { Add } from '@tensorflow/tfjs-core';

/** Gather along an axis: every embedding lookup (rows of a table). */
export { GatherV2 } from '@tensorflow/tfjs-core';

// Fused kernels: mmft's own names (tfjs has none of these). The callers define the same strings
// and call them with tf.engine().runKernel only where getKernel(name, tf.getBackend()) finds
// them, else they run the composite ops: @mmft/core's LayerNorm module and activations
// (packages/core/src/nn/{layer-norm,activations}.ts) and the trainer's AdamW
// (packages/plugins/trainer-standard/src/optim/adamw.ts). Tests check both sides agree.

/** LayerNorm over the last axis with affine weight: inputs x [..., D], gamma [D], beta [D]; output y like x. */
export const LayerNorm = 'MmftLayerNorm';
export interface LayerNormAttrs { eps: number }
/** Backward of LayerNorm: inputs dy, x, gamma; outputs [dx, dgamma, dbeta]. */
export const LayerNormGrad = 'MmftLayerNormGrad';

/** x·σ(1.702·x) (CLIP's quick_gelu): input x; output like x. */
export const QuickGelu = 'MmftQuickGelu';
/** Backward of QuickGelu: inputs dy, x; output dx. */
export const QuickGeluGrad = 'MmftQuickGeluGrad';

/** Exact GELU x·Φ(x): input x; output like x. */
export const Gelu = 'MmftGelu';
/** Backward of Gelu: inputs dy, x; output dx. */
export const GeluGrad = 'MmftGeluGrad';

/** One AdamW step of one parameter: inputs param, grad, expAvg, expAvgSq; outputs [param, expAvg, expAvgSq]. */
export const AdamWUpdate = 'MmftAdamWUpdate';
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
/** Backward of Softmax: inputs dy, y; output dlogits. */
export const SoftmaxGrad = 'MmftSoftmaxGrad';

/**
 * Attention's masked softmax: softmax(max(logits + mask, minValue)) over the last axis. Inputs
 * logits [B, H, T, S] and an additive mask broadcastable to it with S keys ([B|1, H|1, T|1, S]).
 */
export const MaskedSoftmax = 'MmftMaskedSoftmax';
export interface MaskedSoftmaxAttrs {
  /** The clamp (@mmft/core's MASK_MIN): keeps fully masked rows finite. */
  minValue: number;
}
/** Backward of MaskedSoftmax: inputs dy, y, logits, mask; output dlogits (zero where clamped). */
export const MaskedSoftmaxGrad = 'MmftMaskedSoftmaxGrad';

/**
 * Multi-head attention core: inputs q [B, T, D], k and v [B, S, D], an additive mask
 * [B|1, H|1, T|1, S]; output context [B, T, D] = softmax(max(q·kᵀ·scale + mask, minValue))·v per head.
 */
export const Attention = 'MmftAttention';
export interface AttentionAttrs {
  numHeads: number;
  /** Multiplies the scores (1/√headDim). */
  scale: number;
  /** The clamp (@mmft/core's MASK_MIN). */
  minValue: number;
}
/** Backward of Attention: inputs dy, q, k, v, mask; outputs [dq, dk, dv]. */
export const AttentionGrad = 'MmftAttentionGrad';

/** A Linear layer y = x·Wᵀ + b: inputs x [..., in], weight [out, in], bias [out]; output [..., out]. */
export const Linear = 'MmftLinear';
/** The same without a bias: inputs x, weight. */
export const LinearNoBias = 'MmftLinearNoBias';
/** dx = dy·W: inputs dy [..., out], weight [out, in]; output [..., in]. */
export const LinearGradInput = 'MmftLinearGradInput';
/** dW = dyᵀ·x over every leading position: inputs dy [..., out], x [..., in]; output [out, in]. */
export const LinearGradWeight = 'MmftLinearGradWeight';

/** Σ g² over any number of float32 tensors (inputs an array, as AddN's); output a float32 scalar. */
export const SumOfSquares = 'MmftSumOfSquares';
