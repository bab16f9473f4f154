// The module tree of Blip2ForImageTextRetrieval under its Hugging Face state-dict names
// (src/transformers/models/blip_2/modeling_blip_2.py, Blip2ForImageTextRetrieval.__init__):
// vision_model, query_tokens, embeddings, qformer, vision_projection, text_projection, itm_head;
// then the stage-1 extras transformers does not have (LAVIS lavis/models/blip2_models/blip2_qformer.py):
// `temp` (the ITC temperature, 0.07) and `qformer_lm_head` (the ITG text decoder head).
import * as tf from '@tensorflow/tfjs-core';
import { deriveSeed, Linear, Module, normal } from '@mmft/core/nn';
import type { Blip2Config } from '../config';
import { Blip2QFormerModel } from '../model/qformer';
import { Blip2VisionModel } from '../model/vision';
import { Blip2QFormerLmHead } from './lm-head';
import { Blip2TextEmbeddings } from './text-embeddings';

/** LAVIS Blip2Qformer's initial temperature (`temp = Parameter(0.07 * ones([]))`). */
export const INITIAL_TEMPERATURE = 0.07;

/** Names of the parameters HF's Blip2ForImageTextRetrieval lacks (stage-1 extras), as a test. */
export const isStageOneExtra = (name: string): boolean => name === 'temp' || name.startsWith('qformer_lm_head.');

/**
 * vision_model → Q-Former over query_tokens (+ text through `embeddings`) → projections / heads.
 *
 * @example
 * const root = new Blip2RetrievalRoot(config, 0);
 * root.param('temp'); // scalar 0.07
 */
export class Blip2RetrievalRoot extends Module<[], null> {
  constructor(
    readonly config: Blip2Config,
    seed?: number,
  ) {
    super();
    const q = config.qformer_config;
    const e = config.image_text_hidden_size;
    this.registerModule('vision_model', new Blip2VisionModel(config.vision_config, deriveSeed(seed, 'vision_model')));
    this.createParameter('query_tokens', [1, config.num_query_tokens, q.hidden_size], normal(q.initializer_range), {
      seed: deriveSeed(seed, 'query_tokens'),
    });
    this.registerModule('embeddings', new Blip2TextEmbeddings(q, deriveSeed(seed, 'embeddings')));
    this.registerModule('qformer', new Blip2QFormerModel(q, deriveSeed(seed, 'qformer')));
    this.registerModule('vision_projection', new Linear(q.hidden_size, e, { seed: deriveSeed(seed, 'vision_projection') }));
    this.registerModule('text_projection', new Linear(q.hidden_size, e, { seed: deriveSeed(seed, 'text_projection') }));
    this.registerModule('itm_head', new Linear(q.hidden_size, 2, { seed: deriveSeed(seed, 'itm_head') }));
    this.createParameter('temp', [], (shape) => tf.fill([...shape], INITIAL_TEMPERATURE));
    this.registerModule('qformer_lm_head', new Blip2QFormerLmHead(q, deriveSeed(seed, 'qformer_lm_head')));
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

  get embeddings(): Blip2TextEmbeddings {
    return this.child<Blip2TextEmbeddings>('embeddings');
  }

  get lmHead(): Blip2QFormerLmHead {
    return this.child<Blip2QFormerLmHead>('qformer_lm_head');
  }

  linear(name: 'vision_projection' | 'text_projection' | 'itm_head'): Linear {
    return this.child<Linear>(name);
  }
}
