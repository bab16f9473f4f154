// The Q-Former's text decoder head for image-grounded text generation (stage 1's ITG), as LAVIS'
// BertLMPredictionHead (lavis/models/blip2_models/Qformer.py: BertPredictionHeadTransform = dense →
// act → LayerNorm, then the decoder whose weight is the word embeddings and whose bias is its own).
// transformers' Blip2ForImageTextRetrieval has no such head (its conversion drops LAVIS' `cls.*`),
// so it is an mmft extra stored as `qformer_lm_head.*`; the decoder weight is the tied word table
// and is never stored.
import * as tf from '@tensorflow/tfjs-core';
import { deriveSeed, getActivation, LayerNorm, Linear, Module, zeros } from '@mmft/core/nn';
import type { Blip2QFormerConfig } from '../config';

/** BertPredictionHeadTransform: `dense`, act, `LayerNorm`. */
export class Blip2QFormerLmTransform extends Module<[tf.Tensor], tf.Tensor> {
  private readonly act: (x: tf.Tensor) => tf.Tensor;

  constructor(config: Blip2QFormerConfig, seed?: number) {
    super();
    this.act = getActivation(config.hidden_act);
    this.registerModule('dense', new Linear(config.hidden_size, config.hidden_size, { seed: deriveSeed(seed, 'dense') }));
    this.registerModule('LayerNorm', new LayerNorm(config.hidden_size, { eps: config.layer_norm_eps }));
  }

  forward(x: tf.Tensor): tf.Tensor {
    return tf.tidy(() => this.child<LayerNorm>('LayerNorm').forward(this.act(this.child<Linear>('dense').forward(x))));
  }
}

/**
 * `transform` then logits = h · word_embeddingsᵀ + `bias` [V].
 *
 * @example
 * const logits = head.forward(textStates, embeddings.wordEmbeddings); // [B, T, V]
 */
export class Blip2QFormerLmHead extends Module<[tf.Tensor, tf.Tensor], tf.Tensor> {
  constructor(config: Blip2QFormerConfig, seed?: number) {
    super();
    this.registerModule('transform', new Blip2QFormerLmTransform(config, deriveSeed(seed, 'transform')));
    this.createParameter('bias', [config.vocab_size], zeros);
  }

  /** hidden [B, T, H], decoder weight [V, H] (the word embeddings) → logits [B, T, V]. */
  forward(hidden: tf.Tensor, decoderWeight: tf.Tensor): tf.Tensor {
    return tf.tidy(() => {
      const [b, t, h] = hidden.shape as [number, number, number];
      const states = tf.reshape(this.child<Blip2QFormerLmTransform>('transform').forward(hidden), [b * t, h]);
      const logits = tf.add(tf.matMul(states, decoderWeight, false, true), this.param('bias'));
      return tf.reshape(logits, [b, t, decoderWeight.shape[0]!]);
    });
  }
}
