// The module tree of LlamaForCausalLM with Hugging Face's state-dict names (transformers
// src/transformers/models/llama/modeling_llama.py): model.embed_tokens, model.layers.N.{input_layernorm,
// self_attn.{q,k,v,o}_proj, post_attention_layernorm, mlp.{gate,up,down}_proj}, model.norm, lm_head.
// Pre-norm residual blocks, rotary positions shared by every layer (LlamaModel.rotary_emb), grouped-query
// attention and the SiLU-gated MLP come from core's nn blocks.
import * as tf from '@tensorflow/tfjs-core';
import type { KeyValueCache } from '@mmft/core';
import {
  blockStack,
  CausalSelfAttention,
  causalLmMask,
  Embedding,
  getActivation,
  Linear,
  Module,
  ModuleList,
  positionIdsFromMask,
  RMSNorm,
  RotaryEmbedding,
  runBlocks,
  type Activation,
  type RotaryCosSin,
} from '@mmft/core/nn';
import { MmftError } from '@mmft/core';
import { TiedLinear } from '@mmft/core/lm';
import type { LlamaConfig } from '../config';
import { ropeScalingOf } from '../checkpoint/parse-config';

/** What every decoder layer reads besides the hidden states. */
export interface LlamaLayerContext {
  /** Additive mask [B, 1, T, past + T] (causal + padding). */
  readonly mask: tf.Tensor;
  readonly rotary: RotaryCosSin;
  readonly cache?: KeyValueCache;
}

/** LlamaMLP: down_proj(act(gate_proj(x)) * up_proj(x)). */
export class LlamaMLP extends Module<[tf.Tensor], tf.Tensor> {
  private readonly act: Activation;

  constructor(config: LlamaConfig) {
    super();
    const bias = config.mlp_bias;
    this.registerModule('gate_proj', new Linear(config.hidden_size, config.intermediate_size, { bias }));
    this.registerModule('up_proj', new Linear(config.hidden_size, config.intermediate_size, { bias }));
    this.registerModule('down_proj', new Linear(config.intermediate_size, config.hidden_size, { bias }));
    this.act = getActivation(config.hidden_act);
  }

  forward(x: tf.Tensor): tf.Tensor {
    return tf.tidy(() => {
      const gate = this.act(this.child<Linear>('gate_proj').forward(x));
      return this.child<Linear>('down_proj').forward(tf.mul(gate, this.child<Linear>('up_proj').forward(x)));
    });
  }
}

/** LlamaDecoderLayer: h = x + attn(input_layernorm(x)); out = h + mlp(post_attention_layernorm(h)). */
export class LlamaDecoderLayer extends Module<[tf.Tensor, LlamaLayerContext], tf.Tensor> {
  constructor(
    config: LlamaConfig,
    readonly layerIndex: number,
  ) {
    super();
    const eps = config.rms_norm_eps;
    this.registerModule(
      'self_attn',
      new CausalSelfAttention({
        embedDim: config.hidden_size,
        numHeads: config.num_attention_heads,
        numKeyValueHeads: config.num_key_value_heads,
        headDim: config.head_dim,
        bias: config.attention_bias,
        outputBias: config.attention_bias,
        dropout: config.attention_dropout,
      }),
    );
    this.registerModule('mlp', new LlamaMLP(config));
    this.registerModule('input_layernorm', new RMSNorm(config.hidden_size, { eps }));
    this.registerModule('post_attention_layernorm', new RMSNorm(config.hidden_size, { eps }));
  }

  forward(x: tf.Tensor, context: LlamaLayerContext): tf.Tensor {
    return tf.tidy(() => {
      const attn = this.child<CausalSelfAttention>('self_attn').forward(this.child<RMSNorm>('input_layernorm').forward(x), {
        attentionMask: context.mask,
        rotary: context.rotary,
        cache: context.cache,
        layer: this.layerIndex,
      });
      const h = tf.add(x, attn);
      return tf.add(h, this.child<LlamaMLP>('mlp').forward(this.child<RMSNorm>('post_attention_layernorm').forward(h)));
    });
  }
}

/** Inputs of one forward of the decoder: ids or embeddings, and what the base derived from them. */
export interface LlamaModelInputs {
  readonly inputIds?: tf.Tensor;
  readonly inputsEmbeds?: tf.Tensor;
  /** [B, past + T] 0/1. */
  readonly attentionMask?: tf.Tensor;
  /** [B, T]; default from the mask as generate() makes them, else past..past+T-1. */
  readonly positionIds?: tf.Tensor;
  readonly cache?: KeyValueCache;
  /** LlamaForCausalLMRoot: the head runs on the last this-many positions only (transformers' logits_to_keep). */
  readonly logitsToKeep?: number;
}

/** LlamaModel: embed_tokens → layers → norm (final hidden states [B, T, D]). */
export class LlamaModel extends Module<[LlamaModelInputs], tf.Tensor> {
  /** LlamaModel.rotary_emb: inv_freq is a non-persistent buffer in HF, so no parameter here. */
  readonly rotary: RotaryEmbedding;

  constructor(readonly config: LlamaConfig) {
    super();
    this.registerModule('embed_tokens', new Embedding(config.vocab_size, config.hidden_size));
    const layers = new ModuleList();
    for (let i = 0; i < config.num_hidden_layers; i++) layers.append(new LlamaDecoderLayer(config, i));
    this.registerModule('layers', blockStack(layers));
    this.registerModule('norm', new RMSNorm(config.hidden_size, { eps: config.rms_norm_eps }));
    this.rotary = new RotaryEmbedding({ dim: config.head_dim, base: config.rope_theta, scaling: ropeScalingOf(config) });
  }

  /** The input embeddings of ids [B, T] → [B, T, D] (get_input_embeddings). */
  embed(inputIds: tf.Tensor): tf.Tensor {
    return this.child<Embedding>('embed_tokens').forward(inputIds);
  }

  forward(inputs: LlamaModelInputs): tf.Tensor {
    if ((inputs.inputIds === undefined) === (inputs.inputsEmbeds === undefined)) {
      throw new MmftError('E_SHAPE', 'LlamaModel.forward needs exactly one of inputIds [B, T] or inputsEmbeds [B, T, hidden_size]', {
        hint: 'pass inputsEmbeds only when splicing embeddings (prompt tuning, image tokens); otherwise pass inputIds',
      });
    }
    return tf.tidy(() => {
      const hidden0 = inputs.inputsEmbeds ?? this.embed(inputs.inputIds!);
      const [batch, length] = hidden0.shape as [number, number, number];
      const past = inputs.cache?.length ?? 0;
      const mask = causalLmMask(inputs.attentionMask, batch, length, past);
      const positions = inputs.positionIds ?? defaultPositions(inputs.attentionMask, batch, past, length);
      const rotary = this.rotary.cosSin(positions);
      // A layer filling a KV cache (generation, prefix tuning) runs plainly: its output is more than the hidden state.
      const hidden = runBlocks(
        this.child<ModuleList<LlamaDecoderLayer>>('layers'),
        hidden0,
        (layer, h, [m, cos, sin]) => layer.forward(h, { mask: m!, rotary: { cos: cos!, sin: sin! }, cache: inputs.cache }),
        { constants: [mask, rotary.cos, rotary.sin], plain: inputs.cache !== undefined },
      );
      return this.child<RMSNorm>('norm').forward(hidden);
    });
  }
}

/**
 * Positions when the caller gives none: from the attention mask as generate() makes them (so a
 * left-padded row gets the positions it would have alone; docs/language-models.md (Llama) explains why this differs
 * from a bare LlamaModel.forward), else cache_position = past..past+T-1 for every row.
 */
function defaultPositions(mask: tf.Tensor | undefined, batch: number, past: number, length: number): tf.Tensor {
  if (mask) return positionIdsFromMask(mask, past, length);
  return tf.tidy(() => tf.tile(tf.expandDims(tf.range(past, past + length, 1, 'int32'), 0), [batch, 1]));
}

/**
 * The root of LlamaForCausalLM: `model` (LlamaModel) and `lm_head` ([V, D], no bias; the embedding's
 * variable itself when tie_word_embeddings, so it is one parameter listed once).
 *
 * @example
 * const root = new LlamaForCausalLMRoot(parseLlamaConfig({ hidden_size: 16, ... }));
 * const logits = root.forward({ inputIds }); // [B, T, vocab_size]
 */
export class LlamaForCausalLMRoot extends Module<[LlamaModelInputs], tf.Tensor> {
  constructor(readonly config: LlamaConfig) {
    super();
    const model = this.registerModule('model', new LlamaModel(config));
    if (config.tie_word_embeddings) {
      this.registerModule('lm_head', new TiedLinear(model.child<Embedding>('embed_tokens').weight));
    } else {
      this.registerModule('lm_head', new Linear(config.hidden_size, config.vocab_size, { bias: false }));
    }
  }

  /** The decoder (LlamaModel). */
  get model(): LlamaModel {
    return this.child<LlamaModel>('model');
  }

  /** Logits [B, T, vocab_size], or [B, logitsToKeep, vocab_size] for the last positions (LlamaForCausalLM.forward's logits_to_keep). */
  forward(inputs: LlamaModelInputs): tf.Tensor {
    return tf.tidy(() => {
      let hidden = this.model.forward(inputs);
      const keep = inputs.logitsToKeep;
      const length = hidden.shape[1]!;
      // Each position's logits are one row of the head's product, so the kept rows hold the same bits.
      if (keep !== undefined && Number.isInteger(keep) && keep > 0 && keep < length) {
        hidden = tf.slice(hidden, [0, length - keep, 0], [-1, keep, -1]);
      }
      return this.child<Linear>('lm_head').forward(hidden);
    });
  }
}
