// The module tree of Blip2ForConditionalGeneration under its Hugging Face state-dict names
// (modeling_blip_2.py Blip2ForConditionalGeneration.__init__): vision_model, query_tokens,
// qformer, language_projection, language_model (the causal LM's own root, built by its plugin).
import * as tf from '@tensorflow/tfjs-core';
import { deriveSeed, Linear, Module, normal, type AnyModule } from '@mmft/core/nn';
import type { Blip2Config } from '../config';
import { Blip2QFormerModel } from './qformer';
import { Blip2VisionModel } from './vision';

/**
 * vision_model → Q-Former over query_tokens → language_projection; language_model attached by the caller.
 *
 * @example
 * const root = new Blip2Root(config, lm.root, lmHiddenSize, 0);
 * const queries = root.imageFeatures(pixelValues); // [B, Q, lm hidden]
 */
export class Blip2Root extends Module<[], null> {
  constructor(
    readonly config: Blip2Config,
    languageModel: AnyModule,
    languageHiddenSize: number,
    seed?: number,
  ) {
    super();
    const q = config.qformer_config;
    this.registerModule('vision_model', new Blip2VisionModel(config.vision_config, deriveSeed(seed, 'vision_model')));
    this.createParameter('query_tokens', [1, config.num_query_tokens, q.hidden_size], normal(q.initializer_range), {
      seed: deriveSeed(seed, 'query_tokens'),
    });
    this.registerModule('qformer', new Blip2QFormerModel(q, deriveSeed(seed, 'qformer')));
    this.registerModule(
      'language_projection',
      new Linear(q.hidden_size, languageHiddenSize, { seed: deriveSeed(seed, 'language_projection') }),
    );
    this.registerModule('language_model', languageModel);
  }

  forward(): null {
    return null;
  }

  get visionModel(): Blip2VisionModel {
    return this.child<Blip2VisionModel>('vision_model');
  }

  get qformer(): Blip2QFormerModel {
    return this.child<Blip2QFormerModel>('qformer');
  }

  /** The Q-Former's query outputs [B, Q, H] for pixels [B, 3, S, S] (get_qformer_features). */
  queryOutput(pixelValues: tf.Tensor): tf.Tensor {
    return tf.tidy(() => {
      const image = this.visionModel.forward(pixelValues).lastHiddenState;
      const batch = image.shape[0]!;
      const queries = tf.tile(this.param('query_tokens'), [batch, 1, 1]);
      return this.qformer.forward({ queryEmbeds: queries, encoderHiddenStates: image });
    });
  }

  /** language_projection(query outputs): the image's embeddings in the language model, [B, Q, D_lm] (get_image_features). */
  imageFeatures(pixelValues: tf.Tensor): tf.Tensor {
    return tf.tidy(() => this.child<Linear>('language_projection').forward(this.queryOutput(pixelValues)));
  }
}
