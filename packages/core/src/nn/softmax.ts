// Attention's softmax over the last axis, with an optional additive mask clamped at MASK_MIN
// (masks.ts says why). One fused kernel where the active tfjs backend registers one
// (@mmft/backend-tfjs does for wasm with its native addon, with gradients), else tfjs's ops.

import * as tf from '@tensorflow/tfjs-core';
import { MaskedSoftmax, runFused, Softmax } from '../kernels';
import { MASK_MIN } from './masks';

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
  const fusedMask = mask && scores.rank === 4 && mask.rank === 4 && mask.shape[3] === scores.shape[3];
  const fused = !float32
    ? undefined
    : !mask
      ? runFused(Softmax, { logits: scores })
      : fusedMask
        ? runFused(MaskedSoftmax, { logits: scores, mask }, { minValue: MASK_MIN })
        : undefined;
  if (fused) return fused;
  return tf.tidy(() => tf.softmax(mask ? tf.maximum(tf.add(scores, mask), MASK_MIN) : scores, -1));
}
