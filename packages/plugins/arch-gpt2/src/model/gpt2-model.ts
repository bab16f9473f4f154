// The GPT-2 module tree with transformers' state-dict names (models/gpt2/modeling_gpt2.py):
// GPT2LMHeadModel = transformer (GPT2Model: wte, wpe, drop, h.N = GPT2Block, ln_f) + lm_head, the
// head tied to wte unless tie_word_embeddings is false. Blocks are pre-LN: x + attn(ln_1(x)), then
// x + mlp(ln_2(x)); attention and masks come from core's causal-LM pieces (@mmft/core/nn).
import * as tf from '@tensorflow/tfjs-core';
import type { KeyValueCache } from '@mmft/core';
import {
  deriveSeed,
  attendCausal,
  blockStack,
  causalLmMask,
  Conv1D,
  Dropout,
  Embedding,
  getActivation,
  LayerNorm,
  Linear,
  Module,
  ModuleList,
  runBlocks,
  type Activation,
} from '@mmft/core/nn';
import { TiedLinear } from '@mmft/core/lm';
import type { Gpt2Config } from '../config';
import { innerDim } from '../checkpoint/parse-config';

/** Weights start at zero (no random draw per tensor): a checkpoint or initGpt2Weights sets them. */
const zerosInit = (shape: readonly number[]) => tf.zeros([...shape]);
const blank = { weightInit: zerosInit };

/** What a block needs besides its input: the additive mask [B, 1, T, S] and the cache. */
export interface Gpt2BlockContext {
  readonly mask: tf.Tensor;
  readonly cache?: KeyValueCache;
}

/**
 * GPT2Attention: c_attn (Conv1D n_embd → 3·n_embd, split into q, k, v), heads, c_proj.
 *
 * @example
 * const attn = new Gpt2Attention(config, 0); // attn.c_attn.weight is [n_embd, 3·n_embd]
 */
export class Gpt2Attention extends Module<[tf.Tensor, Gpt2BlockContext], tf.Tensor> {
  readonly numHeads: number;
  readonly headDim: number;
  /** 1/sqrt(head_dim) when scale_attn_weights, times 1/(layer_idx + 1) when scale_attn_by_inverse_layer_idx (GPT2Attention). */
  readonly scale: number;

  constructor(
    config: Gpt2Config,
    readonly layerIdx: number,
  ) {
    super();
    const d = config.n_embd;
    this.numHeads = config.n_head;
    this.headDim = d / config.n_head;
    let scale = config.scale_attn_weights ? 1 / Math.sqrt(this.headDim) : 1;
    if (config.scale_attn_by_inverse_layer_idx) scale /= layerIdx + 1;
    this.scale = scale;
    this.registerModule('c_attn', new Conv1D(d, 3 * d, blank));
    this.registerModule('c_proj', new Conv1D(d, d, blank));
    // Seeded by place, like core's attention modules, so a run's masks repeat from run to run.
    this.registerModule('attn_dropout', new Dropout(config.attn_pdrop, { seed: deriveSeed(layerIdx, 'attn.attn_dropout') }));
    this.registerModule('resid_dropout', new Dropout(config.resid_pdrop, { seed: deriveSeed(layerIdx, 'attn.resid_dropout') }));
  }

  forward(hidden: tf.Tensor, context: Gpt2BlockContext): tf.Tensor {
    const [b, t, d] = hidden.shape as [number, number, number];
    const heads = (x: tf.Tensor) => tf.transpose(tf.reshape(x, [b, t, this.numHeads, this.headDim]), [0, 2, 1, 3]);
    const projected = tf.tidy(() => {
      const [q, k, v] = tf.split(this.child<Conv1D>('c_attn').forward(hidden), [d, d, d], 2);
      const out = attendCausal({
        query: heads(q!),
        key: heads(k!),
        value: heads(v!),
        mask: context.mask,
        cache: context.cache,
        layer: this.layerIdx,
        scale: this.scale,
        dropout: this.child<Dropout>('attn_dropout'),
      });
      return this.child<Conv1D>('c_proj').forward(out);
    });
    const dropped = this.child<Dropout>('resid_dropout').forward(projected);
    if (dropped !== projected) projected.dispose();
    return dropped;
  }
}

/** GPT2MLP: c_fc (n_embd → inner), activation_function, c_proj (inner → n_embd), resid dropout. */
export class Gpt2Mlp extends Module<[tf.Tensor], tf.Tensor> {
  private readonly act: Activation;

  constructor(config: Gpt2Config, layerIdx = 0) {
    super();
    const inner = innerDim(config);
    this.act = getActivation(config.activation_function);
    this.registerModule('c_fc', new Conv1D(config.n_embd, inner, blank));
    this.registerModule('c_proj', new Conv1D(inner, config.n_embd, blank));
    this.registerModule('dropout', new Dropout(config.resid_pdrop, { seed: deriveSeed(layerIdx, 'mlp.dropout') }));
  }

  forward(x: tf.Tensor): tf.Tensor {
    return tf.tidy(() => {
      const h = this.act(this.child<Conv1D>('c_fc').forward(x));
      return this.child<Dropout>('dropout').forward(this.child<Conv1D>('c_proj').forward(h));
    });
  }
}

/** GPT2Block (pre-LN): x + attn(ln_1(x)), then x + mlp(ln_2(x)). */
export class Gpt2Block extends Module<[tf.Tensor, Gpt2BlockContext], tf.Tensor> {
  constructor(config: Gpt2Config, layerIdx: number) {
    super();
    this.registerModule('ln_1', new LayerNorm(config.n_embd, { eps: config.layer_norm_epsilon }));
    this.registerModule('attn', new Gpt2Attention(config, layerIdx));
    this.registerModule('ln_2', new LayerNorm(config.n_embd, { eps: config.layer_norm_epsilon }));
    this.registerModule('mlp', new Gpt2Mlp(config, layerIdx));
  }

  forward(x: tf.Tensor, context: Gpt2BlockContext): tf.Tensor {
    return tf.tidy(() => {
      const attended = tf.add(x, this.child<Gpt2Attention>('attn').forward(this.child<LayerNorm>('ln_1').forward(x), context));
      return tf.add(attended, this.child<Gpt2Mlp>('mlp').forward(this.child<LayerNorm>('ln_2').forward(attended)));
    });
  }
}

/** Inputs of the decoder stack: ids or embeddings, the 2-D mask over past + new positions, positions, cache. */
export interface Gpt2StackInputs {
  readonly inputIds?: tf.Tensor;
  readonly inputsEmbeds?: tf.Tensor;
  readonly attentionMask?: tf.Tensor;
  readonly positionIds?: tf.Tensor;
  readonly cache?: KeyValueCache;
}

/**
 * GPT2Model: wte + wpe → drop → h.0 … h.(n_layer-1) → ln_f; returns the last hidden states [B, T, n_embd].
 * Without positionIds the positions are past + 0 … T-1 as GPT2Model.forward makes them
 * (cache_position), which ignores left padding: generate() passes positions from the mask.
 */
export class Gpt2Model extends Module<[Gpt2StackInputs], tf.Tensor> {
  constructor(readonly config: Gpt2Config) {
    super();
    this.registerModule('wte', new Embedding(config.vocab_size, config.n_embd, { init: zerosInit }));
    this.registerModule('wpe', new Embedding(config.n_positions, config.n_embd, { init: zerosInit }));
    this.registerModule('drop', new Dropout(config.embd_pdrop, { seed: deriveSeed(0, 'drop') }));
    this.registerModule('h', blockStack(new ModuleList(Array.from({ length: config.n_layer }, (_, i) => new Gpt2Block(config, i)))));
    this.registerModule('ln_f', new LayerNorm(config.n_embd, { eps: config.layer_norm_epsilon }));
  }

  forward(inputs: Gpt2StackInputs): tf.Tensor {
    return tf.tidy(() => {
      const embeds = inputs.inputsEmbeds ?? this.child<Embedding>('wte').forward(inputs.inputIds!);
      const [batch, length] = embeds.shape as [number, number, number];
      const past = inputs.cache?.length ?? 0;
      const positions =
        inputs.positionIds !== undefined
          ? tf.cast(inputs.positionIds, 'int32')
          : tf.tile(tf.reshape(tf.range(past, past + length, 1, 'int32'), [1, length]), [batch, 1]);
      const hidden = this.child<Dropout>('drop').forward(tf.add(embeds, this.child<Embedding>('wpe').forward(positions)));
      const mask = causalLmMask(inputs.attentionMask, batch, length, past);
      // A block filling a KV cache (generation, prefix tuning) runs plainly: its output is more than the hidden state.
      const blocks = this.child<ModuleList<Gpt2Block>>('h');
      const last = runBlocks(blocks, hidden, (block, h, [m]) => block.forward(h, { mask: m!, cache: inputs.cache }), {
        constants: [mask],
        plain: inputs.cache !== undefined,
      });
      return this.child<LayerNorm>('ln_f').forward(last);
    });
  }
}

/** GPT2LMHeadModel._tied_weights_keys: lm_head.weight is transformer.wte.weight when tie_word_embeddings. */
export const GPT2_TIED_WEIGHTS: Readonly<Record<string, string>> = { 'lm_head.weight': 'transformer.wte.weight' };

/**
 * GPT2LMHeadModel's tree: `transformer` and `lm_head` (no bias), the head's weight shared with
 * transformer.wte.weight when tie_word_embeddings (TiedLinear: stateDict lists lm_head.weight, namedParameters once).
 *
 * @example
 * const root = new Gpt2LMHeadRoot(parseGpt2Config({ n_embd: 8, n_head: 2, n_layer: 1, vocab_size: 300 }));
 * const logits = root.forward({ inputIds }); // [B, T, 300]
 */
export class Gpt2LMHeadRoot extends Module<[Gpt2StackInputs], tf.Tensor> {
  constructor(readonly config: Gpt2Config) {
    super();
    const transformer = this.registerModule('transformer', new Gpt2Model(config));
    const head = config.tie_word_embeddings
      ? new TiedLinear(transformer.child<Embedding>('wte').weight)
      : new Linear(config.n_embd, config.vocab_size, { bias: false, weightInit: zerosInit });
    this.registerModule('lm_head', head);
  }

  /** Token embeddings [B, T, n_embd] (get_input_embeddings). */
  embedTokens(inputIds: tf.Tensor): tf.Tensor {
    return this.child<Gpt2Model>('transformer').child<Embedding>('wte').forward(inputIds);
  }

  /** Logits [B, T, vocab]. */
  forward(inputs: Gpt2StackInputs): tf.Tensor {
    return tf.tidy(() => {
      const hidden = this.child<Gpt2Model>('transformer').forward(inputs);
      return this.child<Linear>('lm_head').forward(hidden);
    });
  }
}
