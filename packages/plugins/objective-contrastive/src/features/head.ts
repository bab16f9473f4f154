// The head trained by the feature-based strategy on frozen, cached features: per modality a
// linear map initialised to the identity (training starts at the pretrained model's retrieval
// quality) or a residual MLP x + W2·gelu(W1·x) with W2 = 0 (CLIP-Adapter, Gao et al. 2021, starts
// the same way). The checkpoint's logit_scale seeds the head's own temperature.
import * as tf from '@tensorflow/tfjs-core';
import { gelu, Linear, Module, zeros } from '@mmft/core/nn';
import type { HeadConfig } from '../config';

const identity = (shape: readonly number[]) => tf.eye(shape[0]!, shape[1]);

class Projection extends Module<[tf.Tensor], tf.Tensor> {
  constructor(
    dim: number,
    private readonly kind: HeadConfig['type'],
    hidden: number,
    seed: number,
  ) {
    super();
    if (kind === 'linear') this.registerModule('proj', new Linear(dim, dim, { weightInit: identity, biasInit: zeros }));
    else {
      this.registerModule('fc1', new Linear(dim, hidden, { seed }));
      this.registerModule('fc2', new Linear(hidden, dim, { weightInit: zeros, biasInit: zeros }));
    }
  }

  forward(x: tf.Tensor): tf.Tensor {
    if (this.kind === 'linear') return this.child<Linear>('proj').forward(x);
    return tf.tidy(() => tf.add(x, this.child<Linear>('fc2').forward(gelu(this.child<Linear>('fc1').forward(x)))));
  }
}

/**
 * Maps cached image/text features to embeddings (+ logitScale for the loss).
 *
 * @example
 * const head = new FeatureHead(512, { type: 'linear' }, Math.log(100), 42);
 * head.forward(imageFeatures, textFeatures); // { imageEmbeds, textEmbeds, logitScale }
 */
export class FeatureHead extends Module<[tf.Tensor, tf.Tensor], Record<string, tf.Tensor>> {
  constructor(dim: number, config: HeadConfig, logitScale: number | undefined, seed: number) {
    super();
    this.registerModule('image_head', new Projection(dim, config.type, config.hidden ?? dim, seed));
    this.registerModule('text_head', new Projection(dim, config.type, config.hidden ?? dim, seed + 1));
    if (logitScale !== undefined) this.createParameter('logit_scale', [], (shape) => tf.fill([...shape], logitScale));
  }

  forward(imageFeatures: tf.Tensor, textFeatures: tf.Tensor): Record<string, tf.Tensor> {
    return tf.tidy(() => {
      const out: Record<string, tf.Tensor> = {
        imageEmbeds: this.child<Projection>('image_head').forward(imageFeatures),
        textEmbeds: this.child<Projection>('text_head').forward(textFeatures),
      };
      if (this.hasParam('logit_scale')) out.logitScale = tf.clone(this.param('logit_scale'));
      return out;
    });
  }
}
