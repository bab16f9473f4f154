// A 2-D convolution over NCHW inputs with weight [out, in, kh, kw], the PyTorch layout HF
// checkpoints store (CLIP's patch embedding is Conv2d(3, D, kernel=stride=patch, bias=False)).
// Follows torch/nn/modules/conv.py; tfjs wants NHWC and [kh, kw, in, out], so we transpose.

import * as tf from '@tensorflow/tfjs-core';
import { assertThat } from '../errors';
import { fanInUniform, type Initializer } from './init';
import { Module } from './module';

type Pair = number | readonly [number, number];

/** Options of `Conv2d`. */
export interface Conv2dOptions {
  /** Step between windows (default 1). */
  stride?: Pair;
  /** Zeros added on each side, as PyTorch's `padding` (default 0), or 'same' / 'valid'. */
  padding?: Pair | 'same' | 'valid';
  /** Learn a bias [out] (default true). */
  bias?: boolean;
  /** Seed for the default initialisers (weight uses `seed`, bias `seed + 1`). */
  seed?: number;
  /** Overrides PyTorch's default U(-1/√fanIn, 1/√fanIn), fanIn = in·kh·kw. */
  weightInit?: Initializer;
}

const pair = (value: Pair): [number, number] => (typeof value === 'number' ? [value, value] : [value[0], value[1]]);

/**
 * Maps x[N, in, H, W] to y[N, out, H', W'].
 *
 * @example
 * const patches = new Conv2d(3, 768, 16, { stride: 16, bias: false });
 * const y = patches.forward(tf.zeros([1, 3, 224, 224])); // [1, 768, 14, 14]
 */
export class Conv2d extends Module<[tf.Tensor], tf.Tensor> {
  readonly kernelSize: [number, number];
  readonly stride: [number, number];
  readonly padding: [number, number] | 'same' | 'valid';

  constructor(
    readonly inChannels: number,
    readonly outChannels: number,
    kernelSize: Pair,
    options: Conv2dOptions = {},
  ) {
    super();
    this.kernelSize = pair(kernelSize);
    this.stride = pair(options.stride ?? 1);
    const padding = options.padding ?? 0;
    this.padding = padding === 'same' || padding === 'valid' ? padding : pair(padding);
    const [kh, kw] = this.kernelSize;
    const init = fanInUniform(inChannels * kh * kw);
    this.createParameter('weight', [outChannels, inChannels, kh, kw], options.weightInit ?? init, { seed: options.seed });
    if (options.bias ?? true) {
      this.createParameter('bias', [outChannels], init, { seed: options.seed === undefined ? undefined : options.seed + 1 });
    }
  }

  forward(x: tf.Tensor): tf.Tensor {
    assertThat(
      x.rank === 4 && x.shape[1] === this.inChannels,
      'E_SHAPE',
      () =>
        `Conv2d(${this.inChannels} → ${this.outChannels}) needs NCHW input [N, ${this.inChannels}, H, W], ` + `got [${x.shape.join(', ')}]`,
    );
    return tf.tidy(() => {
      const nhwc = tf.transpose(x, [0, 2, 3, 1]) as tf.Tensor4D;
      const filter = tf.transpose(this.param('weight'), [2, 3, 1, 0]) as tf.Tensor4D;
      const pad: 'same' | 'valid' | [[number, number], [number, number], [number, number], [number, number]] =
        typeof this.padding === 'string'
          ? this.padding
          : [
              [0, 0],
              [this.padding[0], this.padding[0]],
              [this.padding[1], this.padding[1]],
              [0, 0],
            ];
      let y: tf.Tensor = tf.conv2d(nhwc, filter, this.stride, pad);
      if (this.hasParam('bias')) y = tf.add(y, this.param('bias'));
      return tf.transpose(y, [0, 3, 1, 2]);
    });
  }
}
