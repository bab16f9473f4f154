// Blip2QFormerModel (`qformer.*`) as transformers writes it (src/transformers/models/blip_2/
// modeling_blip_2.py: Blip2QFormerMultiHeadAttention, Blip2QFormerSelfOutput, Blip2QFormerAttention,
// Blip2QFormerIntermediate, Blip2QFormerOutput, Blip2QFormerLayer, Blip2QFormerEncoder,
// Blip2QFormerModel). A BERT encoder with post-LN residuals whose input (the query tokens, then any
// text embeddings) is LayerNorm-ed and dropped out first (`qformer.layernorm`, `qformer.dropout`);
// in every layer self-attention runs over all positions, then only the first `queryLength`
// positions cross-attend to the image (in layers i with i % cross_attention_frequency == 0) and go
// through the query feed-forward (intermediate_query / output_query), while text positions use the
// text feed-forward (intermediate / output, present only with use_qformer_text_input). Masks are
// BERT's additive (1 − mask)·−10000 (get_extended_attention_mask / invert_attention_mask), from a
// [B, T] padding mask or a full [B, T, T] one (the stage-1 decoder's UniLM mask).
import * as tf from '@tensorflow/tfjs-core';
import { assertThat, MmftError } from '@mmft/core';
import { blockStack, deriveSeed, Dropout, getActivation, LayerNorm, Linear, Module, ModuleList, runBlocks } from '@mmft/core/nn';
import type { Blip2QFormerConfig } from '../config';

/** BERT's additive mask value for padded keys ((1 − mask) · −10000). */
export const QFORMER_MASK_VALUE = -10000;

/**
 * [B, S] of 1/0 → additive [B, 1, 1, S]; [B, T, S] of 1/0 (a full mask: row t says what position t
 * sees) → additive [B, 1, T, S], as get_extended_attention_mask does for 2-D and 3-D masks.
 */
function extendedMask(mask: tf.Tensor): tf.Tensor {
  const shape = mask.rank === 3 ? [mask.shape[0]!, 1, mask.shape[1]!, mask.shape[2]!] : [mask.shape[0]!, 1, 1, mask.shape[1]!];
  return tf.tidy(() => tf.reshape(tf.mul(tf.sub(1, tf.cast(mask, 'float32')), QFORMER_MASK_VALUE), shape));
}

/** Blip2QFormerMultiHeadAttention: query / key / value (key and value from the image for cross-attention). */
export class Blip2QFormerMultiHeadAttention extends Module<[tf.Tensor, tf.Tensor | undefined, tf.Tensor | undefined], tf.Tensor> {
  readonly numHeads: number;
  readonly headDim: number;

  constructor(config: Blip2QFormerConfig, isCrossAttention: boolean, seed?: number) {
    super();
    const dim = config.hidden_size;
    const kvDim = isCrossAttention ? config.encoder_hidden_size : dim;
    this.numHeads = config.num_attention_heads;
    this.headDim = dim / this.numHeads;
    this.registerModule('query', new Linear(dim, dim, { seed: deriveSeed(seed, 'query') }));
    this.registerModule('key', new Linear(kvDim, dim, { seed: deriveSeed(seed, 'key') }));
    this.registerModule('value', new Linear(kvDim, dim, { seed: deriveSeed(seed, 'value') }));
    this.registerModule('dropout', new Dropout(config.attention_probs_dropout_prob, { seed: deriveSeed(seed, 'dropout') }));
  }

  /** hidden [B, T, D]; `encoderStates` [B, S, E] for cross-attention; `mask` additive [B, 1, 1, S] → context [B, T, D]. */
  forward(hidden: tf.Tensor, encoderStates: tf.Tensor | undefined, mask: tf.Tensor | undefined): tf.Tensor {
    const { numHeads: h, headDim: hd } = this;
    return tf.tidy(() => {
      const source = encoderStates ?? hidden;
      const heads = (x: tf.Tensor) => {
        const [b, t] = x.shape as [number, number, number];
        return tf.transpose(tf.reshape(x, [b, t, h, hd]), [0, 2, 1, 3]);
      };
      const q = heads(this.child<Linear>('query').forward(hidden));
      const k = heads(this.child<Linear>('key').forward(source));
      const v = heads(this.child<Linear>('value').forward(source));
      let scores = tf.div(tf.matMul(q, k, false, true), Math.sqrt(hd));
      if (mask) scores = tf.add(scores, mask);
      const probs = this.child<Dropout>('dropout').forward(tf.softmax(scores, -1));
      const [b, t, d] = hidden.shape as [number, number, number];
      return tf.reshape(tf.transpose(tf.matMul(probs, v), [0, 2, 1, 3]), [b, t, d]);
    });
  }
}

/** Blip2QFormerSelfOutput / Blip2QFormerOutput: LayerNorm(dropout(dense(x)) + residual). */
export class Blip2QFormerResidualOutput extends Module<[tf.Tensor, tf.Tensor], tf.Tensor> {
  constructor(config: Blip2QFormerConfig, inFeatures: number, seed?: number) {
    super();
    this.registerModule('dense', new Linear(inFeatures, config.hidden_size, { seed: deriveSeed(seed, 'dense') }));
    this.registerModule('LayerNorm', new LayerNorm(config.hidden_size, { eps: config.layer_norm_eps }));
    this.registerModule('dropout', new Dropout(config.hidden_dropout_prob, { seed: deriveSeed(seed, 'dropout') }));
  }

  forward(x: tf.Tensor, residual: tf.Tensor): tf.Tensor {
    return tf.tidy(() => {
      const projected = this.child<Dropout>('dropout').forward(this.child<Linear>('dense').forward(x));
      return this.child<LayerNorm>('LayerNorm').forward(tf.add(projected, residual));
    });
  }
}

/** Blip2QFormerAttention: `attention` (the heads) then `output` (dense + LayerNorm residual). */
export class Blip2QFormerAttention extends Module<[tf.Tensor, tf.Tensor | undefined, tf.Tensor | undefined], tf.Tensor> {
  constructor(config: Blip2QFormerConfig, isCrossAttention: boolean, seed?: number) {
    super();
    this.registerModule('attention', new Blip2QFormerMultiHeadAttention(config, isCrossAttention, deriveSeed(seed, 'attention')));
    this.registerModule('output', new Blip2QFormerResidualOutput(config, config.hidden_size, deriveSeed(seed, 'output')));
  }

  forward(hidden: tf.Tensor, encoderStates: tf.Tensor | undefined, mask: tf.Tensor | undefined): tf.Tensor {
    return tf.tidy(() => {
      const context = this.child<Blip2QFormerMultiHeadAttention>('attention').forward(hidden, encoderStates, mask);
      return this.child<Blip2QFormerResidualOutput>('output').forward(context, hidden);
    });
  }
}

/** Blip2QFormerIntermediate: act(dense(x)). */
export class Blip2QFormerIntermediate extends Module<[tf.Tensor], tf.Tensor> {
  private readonly act: (x: tf.Tensor) => tf.Tensor;

  constructor(config: Blip2QFormerConfig, seed?: number) {
    super();
    this.act = getActivation(config.hidden_act);
    this.registerModule('dense', new Linear(config.hidden_size, config.intermediate_size, { seed: deriveSeed(seed, 'dense') }));
  }

  forward(x: tf.Tensor): tf.Tensor {
    return tf.tidy(() => this.act(this.child<Linear>('dense').forward(x)));
  }
}

/** Per-call inputs of a Q-Former layer. */
export interface Blip2QFormerLayerInputs {
  /** Additive self-attention mask [B, 1, 1, T] (padding) or [B, 1, T, T] (full, e.g. the decoder mask). */
  readonly mask?: tf.Tensor;
  /** Image features [B, S, encoder_hidden_size]. */
  readonly encoderStates?: tf.Tensor;
  /** Additive cross-attention mask [B, 1, 1, S]. */
  readonly encoderMask?: tf.Tensor;
  /** The first queryLength positions are queries. */
  readonly queryLength: number;
}

/** Blip2QFormerLayer. */
export class Blip2QFormerLayer extends Module<[tf.Tensor, Blip2QFormerLayerInputs], tf.Tensor> {
  readonly hasCrossAttention: boolean;
  readonly hasTextFeedForward: boolean;

  constructor(
    config: Blip2QFormerConfig,
    readonly layerIdx: number,
    seed?: number,
  ) {
    super();
    this.hasCrossAttention = layerIdx % config.cross_attention_frequency === 0;
    this.hasTextFeedForward = config.use_qformer_text_input;
    // HF registration order: attention, crossattention, intermediate, output, intermediate_query, output_query.
    this.registerModule('attention', new Blip2QFormerAttention(config, false, deriveSeed(seed, 'attention')));
    if (this.hasCrossAttention)
      this.registerModule('crossattention', new Blip2QFormerAttention(config, true, deriveSeed(seed, 'crossattention')));
    if (this.hasTextFeedForward) {
      this.registerModule('intermediate', new Blip2QFormerIntermediate(config, deriveSeed(seed, 'intermediate')));
      this.registerModule('output', new Blip2QFormerResidualOutput(config, config.intermediate_size, deriveSeed(seed, 'output')));
    }
    this.registerModule('intermediate_query', new Blip2QFormerIntermediate(config, deriveSeed(seed, 'intermediate_query')));
    this.registerModule('output_query', new Blip2QFormerResidualOutput(config, config.intermediate_size, deriveSeed(seed, 'output_query')));
  }

  private feedForward(x: tf.Tensor, query: boolean): tf.Tensor {
    const [inter, out] = query ? ['intermediate_query', 'output_query'] : ['intermediate', 'output'];
    if (!query && !this.hasTextFeedForward) {
      throw new MmftError(
        'E_INPUT',
        `Q-Former layer ${this.layerIdx} has no text feed-forward (intermediate / output): text positions need it`,
        {
          hint: 'set qformer_config.use_qformer_text_input: true (the retrieval checkpoints have it; OPT/T5 captioning checkpoints do not)',
        },
      );
    }
    return this.child<Blip2QFormerResidualOutput>(out).forward(this.child<Blip2QFormerIntermediate>(inter).forward(x), x);
  }

  forward(hidden: tf.Tensor, inputs: Blip2QFormerLayerInputs): tf.Tensor {
    return tf.tidy(() => {
      const attended = this.child<Blip2QFormerAttention>('attention').forward(hidden, undefined, inputs.mask);
      const [b, t, d] = attended.shape as [number, number, number];
      const q = inputs.queryLength;
      if (q === 0) return this.feedForward(attended, false);
      let queries = q === t ? attended : tf.slice(attended, [0, 0, 0], [b, q, d]);
      if (this.hasCrossAttention) {
        assertThat(
          inputs.encoderStates !== undefined,
          'E_INPUT',
          () => `Q-Former layer ${this.layerIdx} cross-attends: give the image features`,
        );
        queries = this.child<Blip2QFormerAttention>('crossattention').forward(queries, inputs.encoderStates, inputs.encoderMask);
      }
      const queryOut = this.feedForward(queries, true);
      if (q === t) return queryOut;
      return tf.concat([queryOut, this.feedForward(tf.slice(attended, [0, q, 0], [b, t - q, d]), false)], 1);
    });
  }
}

/** Inputs of `Blip2QFormerModel.forward`. */
export interface Blip2QFormerInputs {
  /** Query tokens (then any text embeddings) [B, T, H]. */
  readonly queryEmbeds: tf.Tensor;
  /** Positions that are queries (default all T; 0 for the text-only pass). */
  readonly queryLength?: number;
  /**
   * [B, T] of 1/0 over queries and text (default all ones), or a full [B, T, T] of 1/0 whose row t
   * says which positions t attends to (LAVIS' UniLM decoder mask: queries see queries, text sees
   * the queries and the text up to itself).
   */
  readonly attentionMask?: tf.Tensor;
  /** Image features [B, S, encoder_hidden_size]. */
  readonly encoderHiddenStates?: tf.Tensor;
  /** [B, S] of 1/0 (default all ones). */
  readonly encoderAttentionMask?: tf.Tensor;
}

/**
 * Blip2QFormerModel: layernorm → dropout → encoder; returns last_hidden_state [B, T, H].
 *
 * @example
 * const out = qformer.forward({ queryEmbeds: tf.tile(queryTokens, [B, 1, 1]), encoderHiddenStates: imageEmbeds }); // [B, 32, 768]
 */
export class Blip2QFormerModel extends Module<[Blip2QFormerInputs], tf.Tensor> {
  constructor(
    readonly config: Blip2QFormerConfig,
    seed?: number,
  ) {
    super();
    this.registerModule('layernorm', new LayerNorm(config.hidden_size, { eps: config.layer_norm_eps }));
    this.registerModule('dropout', new Dropout(config.hidden_dropout_prob, { seed: deriveSeed(seed, 'dropout') }));
    const layers = Array.from(
      { length: config.num_hidden_layers },
      (_, i) => new Blip2QFormerLayer(config, i, deriveSeed(seed, `layer.${i}`)),
    );
    const encoder = this.registerModule('encoder', new Blip2QFormerEncoder());
    encoder.registerModule('layer', blockStack(new ModuleList(layers)));
  }

  /** The layers, `encoder.layer.N`. */
  get layers(): ModuleList<Blip2QFormerLayer> {
    return this.child('encoder').child<ModuleList<Blip2QFormerLayer>>('layer');
  }

  forward(inputs: Blip2QFormerInputs): tf.Tensor {
    const { queryEmbeds } = inputs;
    assertThat(
      queryEmbeds.rank === 3 && queryEmbeds.shape[2] === this.config.hidden_size,
      'E_SHAPE',
      () => `Q-Former input must be [B, T, ${this.config.hidden_size}], got [${queryEmbeds.shape.join(', ')}]`,
    );
    const [b, t] = queryEmbeds.shape as [number, number, number];
    const queryLength = inputs.queryLength ?? t;
    assertThat(
      Number.isInteger(queryLength) && queryLength >= 0 && queryLength <= t,
      'E_INPUT',
      () => `Q-Former queryLength must be an integer in [0, ${t}], got ${queryLength}`,
    );
    const mask = inputs.attentionMask;
    assertThat(
      !mask ||
        (mask.rank === 2 && mask.shape[0] === b && mask.shape[1] === t) ||
        (mask.rank === 3 && mask.shape[0] === b && mask.shape[1] === t && mask.shape[2] === t),
      'E_SHAPE',
      () => `Q-Former attentionMask must be [${b}, ${t}] or [${b}, ${t}, ${t}] of 1/0, got [${mask!.shape.join(', ')}]`,
    );
    const image = inputs.encoderHiddenStates;
    assertThat(
      !image || (image.rank === 3 && image.shape[0] === b && image.shape[2] === this.config.encoder_hidden_size),
      'E_SHAPE',
      () => `Q-Former image features must be [${b}, S, ${this.config.encoder_hidden_size}], got [${image!.shape.join(', ')}]`,
    );
    return tf.tidy(() => {
      const x = this.child<Dropout>('dropout').forward(this.child<LayerNorm>('layernorm').forward(queryEmbeds));
      const additive = extendedMask(mask ?? tf.ones([b, t]));
      const encoderMask = image ? extendedMask(inputs.encoderAttentionMask ?? tf.ones([b, image.shape[1]!])) : undefined;
      // Passed along, not captured, so that a checkpointed layer's recomputation can read them; the
      // image features are an extra (they get their gradient there when the vision side trains).
      if (!image) {
        return runBlocks(this.layers, x, (layer, h, [m]) => layer.forward(h, { mask: m!, queryLength }), { constants: [additive] });
      }
      return runBlocks(
        this.layers,
        x,
        (layer, h, [encoderStates, m, encMask]) => layer.forward(h, { mask: m!, encoderStates, encoderMask: encMask, queryLength }),
        { extras: [image], constants: [additive, encoderMask!] },
      );
    });
  }
}

/** Blip2QFormerEncoder: only the container of `layer.N`. */
export class Blip2QFormerEncoder extends Module<[], null> {
  forward(): null {
    return null;
  }
}
