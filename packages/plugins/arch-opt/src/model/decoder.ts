// The OPT decoder as transformers writes it (models/opt/modeling_opt.py): OPTLearnedPositionalEmbedding
// (offset 2), OPTDecoderLayer (pre- or post-LayerNorm by do_layer_norm_before), OPTDecoder (project_in /
// project_out when word_embed_proj_dim ≠ hidden_size, final_layer_norm only when pre-LN and not removed).
// Children are registered in HF's order, so the state dict lists keys as HF's does.
import * as tf from '@tensorflow/tfjs-core';
import type { KeyValueCache } from '@mmft/core';
import { MmftError } from '@mmft/core';
import {
  blockStack,
  CausalSelfAttention,
  causalLmMask,
  deriveSeed,
  Dropout,
  Embedding,
  getActivation,
  LayerNorm,
  Linear,
  Module,
  ModuleList,
  normal,
  runBlocks,
  zeros,
  type Initializer,
} from '@mmft/core/nn';
import type { OptConfig } from '../config';
import { hasFinalLayerNorm, hasProjections } from '../checkpoint/parse-config';

/** OPTLearnedPositionalEmbedding: position p reads row p + 2 (fairseq's padding_idx legacy), so the table has max + 2 rows. */
export class OptLearnedPositionalEmbedding extends Embedding {
  static readonly OFFSET = 2;

  constructor(maxPositions: number, dim: number, options: { seed?: number; init?: Initializer } = {}) {
    super(maxPositions + OptLearnedPositionalEmbedding.OFFSET, dim, { seed: options.seed, init: options.init ?? normal(0.02) });
  }

  /** Embeddings [B, T, dim] of position ids [B, T] (−1 for a pad reads row 1). */
  embedPositions(positionIds: tf.Tensor): tf.Tensor {
    const rows = tf.tidy(() => tf.add(tf.cast(positionIds, 'int32'), tf.scalar(OptLearnedPositionalEmbedding.OFFSET, 'int32')));
    try {
      return this.forward(rows);
    } finally {
      rows.dispose();
    }
  }
}

/** Extra inputs of a decoder layer. */
export interface OptLayerInputs {
  /** Additive mask [B, 1, T, past + T] (causalLmMask). */
  attentionMask: tf.Tensor;
  cache?: KeyValueCache;
  layer?: number;
}

/** OPTDecoderLayer: self-attention and fc1 → activation → fc2, each with a residual. */
export class OptDecoderLayer extends Module<[tf.Tensor, OptLayerInputs], tf.Tensor> {
  private readonly preNorm: boolean;
  private readonly activation: (x: tf.Tensor) => tf.Tensor;

  constructor(config: OptConfig, seed?: number, initialise = true) {
    super();
    const d = config.hidden_size;
    const bias = config.enable_bias;
    const init = initialise ? normal(config.init_std) : zeros;
    const linear = (name: string, inDim: number, outDim: number) =>
      new Linear(inDim, outDim, { bias, seed: deriveSeed(seed, name), weightInit: init, biasInit: zeros });
    const attention = this.registerModule(
      'self_attn',
      new CausalSelfAttention({
        embedDim: d,
        numHeads: config.num_attention_heads,
        bias,
        // OPTAttention multiplies q_proj(x) by head_dim^-0.5 before q·kᵀ and names its output out_proj.
        scaleQueries: true,
        dropout: config.attention_dropout,
        names: { output: 'out_proj' },
        order: ['key', 'value', 'query', 'output'],
        seed: deriveSeed(seed, 'self_attn'),
      }),
    );
    // HF initialises every Linear from N(0, init_std) with zero biases (OPTPreTrainedModel._init_weights).
    if (initialise) {
      for (const [name, child] of attention.namedChildren()) {
        if (child instanceof Linear) reinitialise(child, init, deriveSeed(seed, `self_attn.${name}`));
      }
    }
    const affine = config.layer_norm_elementwise_affine;
    this.registerModule('self_attn_layer_norm', new LayerNorm(d, { elementwiseAffine: affine }));
    this.registerModule('fc1', linear('fc1', d, config.ffn_dim));
    this.registerModule('fc2', linear('fc2', config.ffn_dim, d));
    this.registerModule('final_layer_norm', new LayerNorm(d, { elementwiseAffine: affine }));
    this.registerModule('dropout', new Dropout(config.dropout, { seed: deriveSeed(seed, 'dropout') }));
    this.preNorm = config.do_layer_norm_before;
    this.activation = getActivation(config.activation_function);
  }

  forward(hidden: tf.Tensor, inputs: OptLayerInputs): tf.Tensor {
    const run = (name: string, x: tf.Tensor) => this.child<Module<[tf.Tensor], tf.Tensor>>(name).forward(x);
    const attention = this.child<CausalSelfAttention>('self_attn');
    return tf.tidy(() => {
      // 125m, 1.3b and larger normalise before each block; 350m after the residual (post-LN).
      let residual = hidden;
      let x = this.preNorm ? run('self_attn_layer_norm', hidden) : hidden;
      x = attention.forward(x, { attentionMask: inputs.attentionMask, cache: inputs.cache, layer: inputs.layer });
      x = tf.add(residual, run('dropout', x));
      if (!this.preNorm) x = run('self_attn_layer_norm', x);
      residual = x;
      let y = this.preNorm ? run('final_layer_norm', x) : x;
      y = run('fc2', this.activation(run('fc1', y)));
      y = tf.add(residual, run('dropout', y));
      return this.preNorm ? y : run('final_layer_norm', y);
    });
  }
}

/** Replaces a Linear's weight by `init` draws and its bias by zeros (HF's _init_weights for OPT). */
function reinitialise(linear: Linear, init: Initializer, seed?: number): void {
  const fresh = init(linear.weight.shape, seed);
  linear.weight.assign(fresh);
  fresh.dispose();
  const bias = linear.bias;
  if (bias) {
    const zero = tf.zerosLike(bias);
    bias.assign(zero);
    zero.dispose();
  }
}

/** Inputs of the decoder: ids or embeddings, the 0/1 mask over past + new positions, optional positions and cache. */
export interface OptDecoderInputs {
  inputIds?: tf.Tensor;
  inputsEmbeds?: tf.Tensor;
  attentionMask?: tf.Tensor;
  positionIds?: tf.Tensor;
  cache?: KeyValueCache;
}

/**
 * OPTDecoder: embeddings, positions, the layers, final LayerNorm and project_out → hidden [B, T, word_embed_proj_dim].
 * `initialise` false skips HF's random initialisation (weights about to be loaded from a checkpoint).
 */
export class OptDecoder extends Module<[OptDecoderInputs], tf.Tensor> {
  constructor(
    readonly config: OptConfig,
    seed?: number,
    initialise = true,
  ) {
    super();
    const d = config.hidden_size;
    const p = config.word_embed_proj_dim;
    const init = initialise ? normal(config.init_std) : zeros;
    const embed = this.registerModule(
      'embed_tokens',
      new Embedding(config.vocab_size, p, { seed: deriveSeed(seed, 'embed_tokens'), init }),
    );
    // nn.Embedding(padding_idx=pad_token_id) starts the pad row at zero.
    const pad = config.pad_token_id;
    if (initialise && pad !== null && pad >= 0 && pad < config.vocab_size) {
      const zeroed = tf.tidy(() => {
        const rowMask = tf.reshape(tf.notEqual(tf.range(0, config.vocab_size, 1, 'int32'), pad), [-1, 1]);
        return tf.mul(embed.weight, tf.cast(rowMask, 'float32'));
      });
      embed.weight.assign(zeroed);
      zeroed.dispose();
    }
    this.registerModule(
      'embed_positions',
      new OptLearnedPositionalEmbedding(config.max_position_embeddings, d, { seed: deriveSeed(seed, 'embed_positions'), init }),
    );
    if (hasProjections(config)) {
      this.registerModule('project_out', new Linear(d, p, { bias: false, seed: deriveSeed(seed, 'project_out'), weightInit: init }));
      this.registerModule('project_in', new Linear(p, d, { bias: false, seed: deriveSeed(seed, 'project_in'), weightInit: init }));
    }
    if (hasFinalLayerNorm(config)) {
      this.registerModule('final_layer_norm', new LayerNorm(d, { elementwiseAffine: config.layer_norm_elementwise_affine }));
    }
    this.registerModule(
      'layers',
      blockStack(
        new ModuleList(
          Array.from(
            { length: config.num_hidden_layers },
            (_, i) => new OptDecoderLayer(config, deriveSeed(seed, `layers.${i}`), initialise),
          ),
        ),
      ),
    );
  }

  /** The word embeddings of ids [B, T] → [B, T, word_embed_proj_dim] (before project_in, as get_input_embeddings). */
  embedTokens(inputIds: tf.Tensor): tf.Tensor {
    return this.child<Embedding>('embed_tokens').forward(inputIds);
  }

  forward(inputs: OptDecoderInputs): tf.Tensor {
    const { inputIds, inputsEmbeds, cache } = inputs;
    if ((inputIds === undefined) === (inputsEmbeds === undefined)) {
      throw new MmftError('E_CONFIG', 'OPTForCausalLM.forward: give exactly one of inputIds or inputsEmbeds');
    }
    if (this.training && this.config.layerdrop > 0) {
      throw new MmftError('E_UNSUPPORTED', `OPT config layerdrop = ${this.config.layerdrop}: mmft trains every layer`, {
        hint: 'set layerdrop to 0 in config.json (every released OPT checkpoint has 0)',
      });
    }
    const maxPositions = this.config.max_position_embeddings;
    return tf.tidy(() => {
      const embeds = inputsEmbeds ?? this.embedTokens(inputIds!);
      const [batch, length] = embeds.shape as [number, number, number];
      const past = cache?.length ?? 0;
      if (past + length > maxPositions) {
        throw new MmftError(
          'E_SHAPE',
          `OPT: ${past + length} positions (${past} cached + ${length} new) exceed max_position_embeddings ${maxPositions}`,
          { hint: 'truncate the prompt or lower maxNewTokens' },
        );
      }
      const mask2d = inputs.attentionMask ? tf.cast(inputs.attentionMask, 'int32') : tf.ones([batch, past + length], 'int32');
      // OPTDecoder.forward: positions = cumsum(mask)·mask − 1 over past + new columns, then the new ones.
      const positions =
        inputs.positionIds ?? tf.slice(tf.sub(tf.mul(tf.cumsum(mask2d, 1), mask2d), tf.scalar(1, 'int32')), [0, past], [-1, length]);
      const posEmbeds = this.child<OptLearnedPositionalEmbedding>('embed_positions').embedPositions(positions);
      const projected = this.hasChild('project_in') ? this.run('project_in', embeds) : embeds;
      let hidden = tf.add(projected, posEmbeds);
      const attentionMask = causalLmMask(mask2d, batch, length, past);
      // A layer filling a KV cache (generation, prefix tuning) runs plainly: its output is more than the hidden state.
      hidden = runBlocks(
        this.child<ModuleList<OptDecoderLayer>>('layers'),
        hidden,
        (layer, h, [mask], index) => layer.forward(h, { attentionMask: mask!, cache, layer: index }),
        { constants: [attentionMask], plain: cache !== undefined },
      );
      if (this.hasChild('final_layer_norm')) hidden = this.run('final_layer_norm', hidden);
      return this.hasChild('project_out') ? this.run('project_out', hidden) : hidden;
    });
  }

  private hasChild(name: string): boolean {
    return this.namedChildren().some(([n]) => n === name);
  }

  private run(name: string, x: tf.Tensor): tf.Tensor {
    return this.child<Module<[tf.Tensor], tf.Tensor>>(name).forward(x);
  }
}

/** OPTModel: the decoder under `decoder`, so keys read `model.decoder.…` below OPTForCausalLM. */
export class OptModel extends Module<[OptDecoderInputs], tf.Tensor> {
  constructor(config: OptConfig, seed?: number, initialise = true) {
    super();
    this.registerModule('decoder', new OptDecoder(config, deriveSeed(seed, 'decoder'), initialise));
  }

  forward(inputs: OptDecoderInputs): tf.Tensor {
    return this.child<OptDecoder>('decoder').forward(inputs);
  }
}
