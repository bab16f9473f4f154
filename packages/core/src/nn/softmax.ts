// Attention's softmax over the last axis, with an optional additive mask clamped at MASK_MIN
// (masks.ts says why). One fused kernel where the active tfjs backend registers one
// (@mmft/backend-tfjs does for wasm with its native addon, with gradients), else tfjs's ops.

import * as tf from '@tensorflow/tfjs-core';
import { isRegistered as registered } from './fused-kernel';
import { MASK_MIN } from './masks';

/** Fused kernel names: core calls them, a backend plugin registers them (input logits [, mask]). */
export const SOFTMAX_KERNEL = 'MmftSoftmax';
export const MASKED_SOFTMAX_KERNEL = 'MmftMaskedSoftmax';
/**
 * The whole attention core as one kernel: inputs q [B, T, D], k, v [B, S, D], mask
 * [B|1, H|1, T|1, S]; attrs numHeads, scale, minValue; output the context [B, T, D] (see attention.ts).
 */
export const ATTENTION_KERNEL = 'MmftAttention';


/**
 * softmax(scores) over the last axis, or softmax(max(scores + mask, MASK_MIN)) with a mask that
 * broadcasts to scores. The fused kernels take float32 scores [B, H, T, S] with a rank-4 mask of
 * S keys; anything else runs as tf.add, tf.maximum and tf.softmax.
 *
 * @example
 * const probs = maskedSoftmax(scores, causalMask(T)); // [B, H, T, T]
 */
export function maskedSoftmax(scores: tf.Tensor, mask?: tf.Tensor): tf.Tensor {
  const float32 = scores.dtype === 'float32' && (!mask || mask.dtype === 'float32');
  if (float32 && !mask && registered(SOFTMAX_KERNEL)) return tf.engine().runKernel<tf.Tensor>(SOFTMAX_KERNEL, { logits: scores });
  const fusedMask = mask && scores.rank === 4 && mask.rank === 4 && mask.shape[3] === scores.shape[3];
  if (float32 && fusedMask && registered(MASKED_SOFTMAX_KERNEL)) {
    return tf.engine().runKernel<tf.Tensor>(MASKED_SOFTMAX_KERNEL, { logits: scores, mask }, { minValue: MASK_MIN });
  }
  return tf.tidy(() => tf.softmax(mask ? tf.maximum(tf.add(scores, mask), MASK_MIN) : scores, -1));
}
