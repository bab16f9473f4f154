// Layer normalisation over the last dimension with learnable scale and shift, as used by every
// transformer block in CLIP/BLIP/OPT. Follows torch/nn/modules/normalization.py (LayerNorm):
// biased variance, eps inside the square root, weight ones and bias zeros. With weights it runs as
// one fused kernel where the active tfjs backend has one registered (@mmft/backend-tfjs registers
// MmftLayerNorm and its gradient for wasm and cpu), else as the composite ops below.

import * as tf from '@tensorflow/tfjs-core';
import { assertThat } from '../errors';
import { LayerNorm as LayerNormKernel, runFused } from '../kernels';
import { ones, zeros } from './init';
import { Module } from './module';

/**
 * (x − mean) / √(var + eps) · weight + bias over the last axis: the fused kernel when the active
 * backend registers one and all inputs are float32, else tf.moments and elementwise ops.
 *
 * @example
 * const y = layerNorm(x, weight, bias, 1e-5);
 */
export function layerNorm(x: tf.Tensor, weight: tf.Tensor, bias: tf.Tensor, eps: number): tf.Tensor {
  const float32 = x.dtype === 'float32' && weight.dtype === 'float32' && bias.dtype === 'float32';
  const fused = float32 ? runFused(LayerNormKernel, { x, gamma: weight, beta: bias }, { eps }) : undefined;
  if (fused) return fused;
  return tf.tidy(() => tf.add(tf.mul(normalize(x, eps), weight), bias));
}

function normalize(x: tf.Tensor, eps: number): tf.Tensor {
  return tf.tidy(() => {
    const { mean, variance } = tf.moments(x, -1, true);
    return tf.mul(tf.sub(x, mean), tf.rsqrt(tf.add(variance, eps)));
  });
}

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
    return this.hasParam('weight') ? layerNorm(x, this.param('weight'), this.param('bias'), this.eps) : normalize(x, this.eps);
  }
}
