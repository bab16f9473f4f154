// A fully connected layer y = x Wᵀ + b with W stored [out, in] as in PyTorch and HF checkpoints,
// so weights load without transposition. Follows torch/nn/modules/linear.py (layout and
// reset_parameters defaults). Runs as one fused kernel (product, bias, any input rank) where the
// active tfjs backend registers one (@mmft/backend-tfjs does for wasm with its native addon, with
// gradients), else as tfjs's reshape, matMul and add.

import * as tf from '@tensorflow/tfjs-core';
import { assertThat } from '../errors';
import { Linear as LinearKernel, LinearNoBias, runFused } from '../kernels';
import { fanInUniform, type Initializer } from './init';
import { Module } from './module';

/** Options of `Linear`. */
export interface LinearOptions {
  /** Learn an additive bias [out] (default true). */
  bias?: boolean;
  /** Seed for the default initialisers (weight uses `seed`, bias `seed + 1`). */
  seed?: number;
  /** Overrides PyTorch's default U(-1/√in, 1/√in) for the weight. */
  weightInit?: Initializer;
  /** Overrides PyTorch's default U(-1/√in, 1/√in) for the bias. */
  biasInit?: Initializer;
}

/**
 * Maps x[..., in] to y[..., out] for inputs of any rank.
 *
 * @example
 * const fc = new Linear(768, 3072, { seed: 1 });
 * const y = fc.forward(tf.zeros([2, 50, 768])); // [2, 50, 3072]
 */
export class Linear extends Module<[tf.Tensor], tf.Tensor> {
  constructor(
    readonly inFeatures: number,
    readonly outFeatures: number,
    options: LinearOptions = {},
  ) {
    super();
    const init = fanInUniform(inFeatures);
    const seed = options.seed;
    this.createParameter('weight', [outFeatures, inFeatures], options.weightInit ?? init, { seed });
    if (options.bias ?? true) {
      this.createParameter('bias', [outFeatures], options.biasInit ?? init, { seed: seed === undefined ? undefined : seed + 1 });
    }
  }

  /** The weight [out, in]. */
  get weight(): tf.Variable {
    return this.param('weight');
  }

  /** The bias [out], if the layer has one. */
  get bias(): tf.Variable | undefined {
    return this.hasParam('bias') ? this.param('bias') : undefined;
  }

  forward(x: tf.Tensor): tf.Tensor {
    assertThat(
      x.rank >= 1 && x.shape[x.rank - 1] === this.inFeatures,
      'E_SHAPE',
      () =>
        `Linear(${this.inFeatures} → ${this.outFeatures}) got input of shape [${x.shape.join(', ')}]; ` +
        `its last dimension must be ${this.inFeatures}`,
    );
    const bias = this.bias;
    if (x.dtype === 'float32' && this.weight.dtype === 'float32') {
      const fused = bias ? runFused(LinearKernel, { x, weight: this.weight, bias }) : runFused(LinearNoBias, { x, weight: this.weight });
      if (fused) return fused;
    }
    return tf.tidy(() => {
      const x2d = tf.reshape(x, [-1, this.inFeatures]);
      // transposeB reads W [out, in] as Wᵀ without materialising a transposed copy.
      let y = tf.matMul(x2d, this.weight, false, true);
      if (bias) y = tf.add(y, bias);
      return tf.reshape(y, [...x.shape.slice(0, -1), this.outFeatures]);
    });
  }
}
