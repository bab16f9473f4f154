// Root-mean-square normalisation (no centring, no bias) as Llama's decoder uses it before attention,
// before the MLP and at the end. Follows transformers/models/llama/modeling_llama.py (LlamaRMSNorm):
// the mean of squares is taken in float32, eps goes inside the root, and the weight multiplies last.

import * as tf from '@tensorflow/tfjs-core';
import { assertThat } from '../errors';
import { ones } from './init';
import { Module } from './module';

/** Options of `RMSNorm`. */
export interface RMSNormOptions {
  /** Added to the mean of squares (HF `rms_norm_eps`; LlamaRMSNorm's default 1e-6). */
  eps?: number;
}

/**
 * x · rsqrt(mean(x²) + eps) · weight over the last axis, computed in float32.
 *
 * @example
 * const y = rmsNorm(x, weight, 1e-6);
 */
export function rmsNorm(x: tf.Tensor, weight: tf.Tensor, eps: number): tf.Tensor {
  return tf.tidy(() => {
    // LlamaRMSNorm upcasts before squaring: half-precision squares overflow.
    const x32 = x.dtype === 'float32' ? x : tf.cast(x, 'float32');
    const meanSquare = tf.mean(tf.square(x32), -1, true);
    return tf.mul(tf.mul(x32, tf.rsqrt(tf.add(meanSquare, eps))), weight);
  });
}

/**
 * LlamaRMSNorm: parameter `weight` [dim] (ones), no bias.
 *
 * @example
 * const norm = new RMSNorm(4096, { eps: 1e-5 });
 * const y = norm.forward(hidden); // [B, T, 4096]
 */
export class RMSNorm extends Module<[tf.Tensor], tf.Tensor> {
  readonly eps: number;

  constructor(
    readonly dim: number,
    options: RMSNormOptions = {},
  ) {
    super();
    assertThat(Number.isInteger(dim) && dim > 0, 'E_CONFIG', () => `RMSNorm needs a positive integer dim, got ${dim}`);
    this.eps = options.eps ?? 1e-6;
    this.createParameter('weight', [dim], ones);
  }

  /** The scale [dim]. */
  get weight(): tf.Variable {
    return this.param('weight');
  }

  forward(x: tf.Tensor): tf.Tensor {
    assertThat(
      x.rank >= 1 && x.shape[x.rank - 1] === this.dim,
      'E_SHAPE',
      () => `RMSNorm(${this.dim}) got input of shape [${x.shape.join(', ')}]; its last dimension must be ${this.dim}`,
    );
    return rmsNorm(x, this.param('weight'), this.eps);
  }
}
