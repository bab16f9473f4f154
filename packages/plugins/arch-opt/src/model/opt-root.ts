// OPTForCausalLM's module tree (models/opt/modeling_opt.py): `model` (OPTModel → decoder) and `lm_head`,
// a bias-free projection to the vocabulary whose weight is the token embedding itself when
// tie_word_embeddings (transformers ties lm_head.weight to model.decoder.embed_tokens.weight).
import type * as tf from '@tensorflow/tfjs-core';
import { TiedLinear } from '@mmft/core/lm';
import { deriveSeed, Embedding, Linear, Module, normal, zeros } from '@mmft/core/nn';
import type { OptConfig } from '../config';
import { OptModel, type OptDecoder, type OptDecoderInputs } from './decoder';

/** The tied pair as transformers' OPTForCausalLM._tied_weights_keys names it. */
export const OPT_TIED_WEIGHTS: Readonly<Record<string, string>> = Object.freeze({ 'lm_head.weight': 'model.decoder.embed_tokens.weight' });

/**
 * `model` + `lm_head`: parameter names are HF's state-dict keys. `initialise` false skips HF's random
 * initialisation (fromPretrained overwrites every weight).
 */
export class OptForCausalLMRoot extends Module<[OptDecoderInputs], tf.Tensor> {
  constructor(
    readonly config: OptConfig,
    seed?: number,
    initialise = true,
  ) {
    super();
    const model = this.registerModule('model', new OptModel(config, deriveSeed(seed, 'model'), initialise));
    const embed = model.child<OptDecoder>('decoder').child<Embedding>('embed_tokens');
    this.registerModule(
      'lm_head',
      config.tie_word_embeddings
        ? new TiedLinear(embed.weight)
        : new Linear(config.word_embed_proj_dim, config.vocab_size, {
            bias: false,
            seed: deriveSeed(seed, 'lm_head'),
            weightInit: initialise ? normal(config.init_std) : zeros,
          }),
    );
  }

  get decoder(): OptDecoder {
    return this.child<OptModel>('model').child<OptDecoder>('decoder');
  }

  /** Logits [B, T, vocab_size] of the decoder's hidden states. */
  forward(inputs: OptDecoderInputs): tf.Tensor {
    const hidden = this.child<OptModel>('model').forward(inputs);
    try {
      return this.child<Module<[tf.Tensor], tf.Tensor>>('lm_head').forward(hidden);
    } finally {
      hidden.dispose();
    }
  }
}
