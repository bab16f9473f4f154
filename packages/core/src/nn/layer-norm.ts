// Layer normalisation over the last dimension with learnable scale and shift, as used by every
// transformer block in CLIP/BLIP/OPT. Follows torch/nn/modules/normalization.py (LayerNorm):
// biased variance, eps inside the square root, weight ones and bias zeros.

import * as tf from '@tensorflow/tfjs-core';
import { assertThat } from '../errors';
import { ones, zeros } from './init';
import { Module } from './module';

/** Options of `LayerNorm`. */
export interface LayerNormOptions {
  /** Added to the variance for stability (default 1e-5, PyTorch's and HF's `layer_norm_eps`). */
  eps?: number;
  /** Learn weight and bias (default true). */
  elementwiseAffine?: boolean;
}

/**
 * Normalises x[..., dim] to zero mean and unit variance over the last axis, then scales and shifts.
 *
 * @example
 * const ln = new LayerNorm(768, { eps: 1e-5 });
 * const y = ln.forward(tf.randomNormal([2, 50, 768]));
 */
export class LayerNorm extends Module<[tf.Tensor], tf.Tensor> {
  readonly eps: number;

  constructor(
    readonly normalizedShape: number,
    options: LayerNormOptions = {},
  ) {
    super();
    this.eps = options.eps ?? 1e-5;
    if (options.elementwiseAffine ?? true) {
      this.createParameter('weight', [normalizedShape], ones);
      this.createParameter('bias', [normalizedShape], zeros);
    }
  }

  forward(x: tf.Tensor): tf.Tensor {
    assertThat(
      x.rank >= 1 && x.shape[x.rank - 1] === this.normalizedShape,
      'E_SHAPE',
      () =>
        `LayerNorm(${this.normalizedShape}) got input of shape [${x.shape.join(', ')}]; ` +
        `its last dimension must be ${this.normalizedShape}`,
    );
    return tf.tidy(() => {
      const { mean, variance } = tf.moments(x, -1, true);
      let y = tf.mul(tf.sub(x, mean), tf.rsqrt(tf.add(variance, this.eps)));
      if (this.hasParam('weight')) y = tf.add(tf.mul(y, this.param('weight')), this.param('bias'));
      return y;
    });
  }
}
