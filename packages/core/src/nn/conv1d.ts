// GPT-2's "Conv1D": a fully connected layer whose weight is stored [in, out] (the transpose of
// torch.nn.Linear's [out, in]), so y = x · W + b. Follows Conv1D in transformers'
// src/transformers/pytorch_utils.py (weight empty(nx, nf) drawn N(0, 0.02), bias zeros(nf), forward
// addmm(bias, x2d, weight)); checkpoints that store it (GPT-2's c_attn, c_proj, c_fc) load without
// transposition. Lives in core because the GPT-2 family builds it and LoRA wraps it.
import * as tf from '@tensorflow/tfjs-core';
import { assertThat } from '../errors';
import { normal, zeros, type Initializer } from './init';
import { Module } from './module';

/** Options of `Conv1D`. */
export interface Conv1DOptions {
  /** Seed of the weight initialiser. */
  seed?: number;
  /** Overrides HF's N(0, 0.02) for the weight. */
  weightInit?: Initializer;
}

/**
 * Maps x[..., in] to y[..., out] with weight [in, out] and bias [out].
 * `fanInFanOut` marks the layout for PEFT, which sets LoraConfig.fan_in_fan_out for Conv1D targets.
 *
 * @example
 * const cAttn = new Conv1D(768, 3 * 768, { seed: 0 }); // weight [768, 2304]
 * const qkv = cAttn.forward(tf.zeros([1, 5, 768])); // [1, 5, 2304]
 */
export class Conv1D extends Module<[tf.Tensor], tf.Tensor> {
  /** The weight is [in, out]: PEFT's fan_in_fan_out. */
  readonly fanInFanOut = true;

  constructor(
    readonly inFeatures: number,
    readonly outFeatures: number,
    options: Conv1DOptions = {},
  ) {
    super();
    this.createParameter('weight', [inFeatures, outFeatures], options.weightInit ?? normal(0.02), { seed: options.seed });
    this.createParameter('bias', [outFeatures], zeros);
  }

  /** The weight [in, out]. */
  get weight(): tf.Variable {
    return this.param('weight');
  }

  /** The bias [out]. */
  get bias(): tf.Variable {
    return this.param('bias');
  }

  forward(x: tf.Tensor): tf.Tensor {
    assertThat(
      x.rank >= 1 && x.shape[x.rank - 1] === this.inFeatures,
      'E_SHAPE',
      () =>
        `Conv1D(${this.inFeatures} → ${this.outFeatures}) got input of shape [${x.shape.join(', ')}]; ` +
        `its last dimension must be ${this.inFeatures}`,
    );
    return tf.tidy(() => {
      const x2d = tf.reshape(x, [-1, this.inFeatures]);
      const y = tf.add(tf.matMul(x2d, this.weight), this.bias);
      return tf.reshape(y, [...x.shape.slice(0, -1), this.outFeatures]);
    });
  }
}
