// A lookup table from integer ids to vectors, weight [num, dim] as in PyTorch and HF
// checkpoints (token and position embeddings). Follows torch/nn/modules/sparse.py (Embedding),
// including its N(0, 1) default initialisation.

import * as tf from '@tensorflow/tfjs-core';
import { assertThat } from '../errors';
import { normal, type Initializer } from './init';
import { Module } from './module';

/** Options of `Embedding`. */
export interface EmbeddingOptions {
  /** Seed for the default N(0, 1) initialiser. */
  seed?: number;
  /** Overrides the default N(0, 1). */
  init?: Initializer;
}

/**
 * Maps int32 ids of any shape [...] to vectors [..., dim].
 *
 * @example
 * const tokens = new Embedding(49408, 512);
 * const h = tokens.forward(tf.tensor2d([[1, 2, 3]], [1, 3], 'int32')); // [1, 3, 512]
 */
export class Embedding extends Module<[tf.Tensor], tf.Tensor> {
  constructor(
    readonly numEmbeddings: number,
    readonly embeddingDim: number,
    options: EmbeddingOptions = {},
  ) {
    super();
    this.createParameter('weight', [numEmbeddings, embeddingDim], options.init ?? normal(), { seed: options.seed });
  }

  /** The table [num, dim]. */
  get weight(): tf.Variable {
    return this.param('weight');
  }

  forward(ids: tf.Tensor): tf.Tensor {
    // Float ids would be truncated silently by a cast; make the caller say what they mean.
    assertThat(
      ids.dtype === 'int32',
      'E_SHAPE',
      () =>
        `Embedding(${this.numEmbeddings}, ${this.embeddingDim}) needs int32 ids, ` + `got ${ids.dtype} of shape [${ids.shape.join(', ')}]`,
    );
    return tf.tidy(() => {
      const flat = tf.reshape(ids, [-1]);
      const rows = tf.gather(this.weight, flat);
      return tf.reshape(rows, [...ids.shape, this.embeddingDim]);
    });
  }
}
