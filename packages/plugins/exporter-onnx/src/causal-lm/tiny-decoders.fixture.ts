// Tests only: tiny Llama-, OPT- and GPT-2-shaped causal LMs assembled from core's nn blocks
// (CausalSelfAttention, attendCausal, RotaryEmbedding, RMSNorm, LayerNorm, Conv1D) under the Hugging
// Face state-dict names, since this package's tests may not import the architecture plugins
// (docs/conventions.md §20). Their forward is the tfjs computation the exported graphs must match;
// generate() runs core's decoding loop over core's DynamicCache.
import * as tf from '@tensorflow/tfjs-core';
import type { KeyValueCache, ModelInputs } from '@mmft/core';
import { CausalLMBase, TiedLinear } from '@mmft/core/lm';
import {
  attendCausal,
  CausalSelfAttention,
  causalLmMask,
  Conv1D,
  Embedding,
  getActivation,
  LayerNorm,
  Linear,
  Module,
  ModuleList,
  positionIdsFromMask,
  RMSNorm,
  RotaryEmbedding,
} from '@mmft/core/nn';

class Node extends Module<[], null> {
  forward(): null {
    return null;
  }
}

/** Every parameter drawn from N(0, std) (norm weights around 1), seeded, so no weight is a neutral 0 or 1. */
function randomise(root: Module, seed: number, std: number): void {
  root.namedParameters().forEach(([name, v], i) => {
    const norm = /(norm|ln_\d|ln_f)\.weight$/.test(name);
    const fresh = tf.tidy(() => tf.add(tf.randomNormal(v.shape, 0, std, 'float32', seed + i), norm ? 1 : 0));
    v.assign(fresh);
    fresh.dispose();
  });
}

type Config = Record<string, unknown>;
const num = (c: Config, k: string) => c[k] as number;

abstract class TinyDecoder extends CausalLMBase<Config> {
  embedTokens(ids: tf.Tensor): tf.Tensor {
    return this.root.getModule<Embedding>(this.embedName).forward(ids);
  }

  protected abstract readonly embedName: string;

  /** What each forward shares: embeddings, mask and positions over the cache. */
  protected prepare(inputs: ModelInputs): { x: tf.Tensor; mask: tf.Tensor; positions: tf.Tensor; cache?: KeyValueCache } {
    const x = inputs.inputsEmbeds ?? this.embedTokens(inputs.inputIds!);
    const [batch, length] = x.shape as [number, number, number];
    const past = inputs.pastKeyValues?.length ?? 0;
    const mask2d = inputs.attentionMask ?? tf.ones([batch, past + length], 'int32');
    return {
      x,
      mask: causalLmMask(mask2d, batch, length, past),
      positions: inputs.positionIds ?? positionIdsFromMask(mask2d, past, length),
      cache: inputs.pastKeyValues,
    };
  }
}

const run = (m: Module, name: string, x: tf.Tensor): tf.Tensor => m.getModule<Module<[tf.Tensor], tf.Tensor>>(name).forward(x);

/** Llama: RMSNorm pre-norm blocks, rotary positions (rope_scaling linear allowed), grouped-query attention, SiLU-gated MLP. */
class TinyLlama extends TinyDecoder {
  protected readonly embedName = 'model.embed_tokens';
  private rope = new RotaryEmbedding({
    dim: num(this.config, 'head_dim'),
    base: num(this.config, 'rope_theta'),
    scaling: this.config.rope_scaling as Record<string, unknown> | null,
  });

  logitsOf(inputs: ModelInputs): tf.Tensor {
    return tf.tidy(() => {
      const { x: x0, mask, positions, cache } = this.prepare(inputs);
      const rotary = this.rope.cosSin(positions);
      const act = getActivation(this.config.hidden_act as string);
      let x = x0;
      for (let i = 0; i < this.numLayers; i++) {
        const layer = this.root.getModule(`model.layers.${i}`);
        const attn = layer.getModule<CausalSelfAttention>('self_attn');
        x = tf.add(x, attn.forward(run(layer, 'input_layernorm', x), { attentionMask: mask, rotary, cache, layer: i }));
        const h = run(layer, 'post_attention_layernorm', x);
        x = tf.add(x, run(layer, 'mlp.down_proj', tf.mul(act(run(layer, 'mlp.gate_proj', h)), run(layer, 'mlp.up_proj', h))));
      }
      return run(this.root, 'lm_head', run(this.root, 'model.norm', x));
    });
  }
}

/** OPT: learned positions at offset 2, queries scaled after q_proj, pre- or post-LN, optional project_in/out. */
class TinyOpt extends TinyDecoder {
  protected readonly embedName = 'model.decoder.embed_tokens';

  logitsOf(inputs: ModelInputs): tf.Tensor {
    return tf.tidy(() => {
      const { x: x0, mask, positions, cache } = this.prepare(inputs);
      const d = this.root.getModule('model.decoder');
      const pre = this.config.do_layer_norm_before as boolean;
      const act = getActivation(this.config.activation_function as string);
      const projected = this.config.word_embed_proj_dim !== this.config.hidden_size;
      let x = projected ? run(d, 'project_in', x0) : x0;
      x = tf.add(x, d.getModule<Embedding>('embed_positions').forward(tf.add(tf.cast(positions, 'int32'), tf.scalar(2, 'int32'))));
      for (let i = 0; i < this.numLayers; i++) {
        const layer = d.getModule(`layers.${i}`);
        const attn = layer.getModule<CausalSelfAttention>('self_attn');
        x = tf.add(x, attn.forward(pre ? run(layer, 'self_attn_layer_norm', x) : x, { attentionMask: mask, cache, layer: i }));
        if (!pre) x = run(layer, 'self_attn_layer_norm', x);
        x = tf.add(x, run(layer, 'fc2', act(run(layer, 'fc1', pre ? run(layer, 'final_layer_norm', x) : x))));
        if (!pre) x = run(layer, 'final_layer_norm', x);
      }
      if (pre) x = run(d, 'final_layer_norm', x);
      if (projected) x = run(d, 'project_out', x);
      return run(this.root, 'lm_head', x);
    });
  }
}

/** GPT-2: Conv1D [in, out] weights, fused c_attn, pre-LN, scores optionally scaled by 1/(layer + 1). */
class TinyGpt2 extends TinyDecoder {
  protected readonly embedName = 'transformer.wte';

  logitsOf(inputs: ModelInputs): tf.Tensor {
    return tf.tidy(() => {
      const { x: x0, mask, positions, cache } = this.prepare(inputs);
      const t = this.root.getModule('transformer');
      const d = num(this.config, 'n_embd');
      const heads = num(this.config, 'n_head');
      const act = getActivation(this.config.activation_function as string);
      let x = tf.add(x0, t.getModule<Embedding>('wpe').forward(tf.cast(positions, 'int32')));
      const [b, s] = x.shape as [number, number];
      const split = (y: tf.Tensor) => tf.transpose(tf.reshape(y, [b, s, heads, d / heads]), [0, 2, 1, 3]);
      for (let i = 0; i < this.numLayers; i++) {
        const block = t.getModule(`h.${i}`);
        const [q, k, v] = tf.split(run(block, 'attn.c_attn', run(block, 'ln_1', x)), 3, -1) as [tf.Tensor, tf.Tensor, tf.Tensor];
        const scale = (d / heads) ** -0.5 / (this.config.scale_attn_by_inverse_layer_idx ? i + 1 : 1);
        const context = attendCausal({ query: split(q), key: split(k), value: split(v), mask, cache, layer: i, scale });
        x = tf.add(x, run(block, 'attn.c_proj', context));
        x = tf.add(x, run(block, 'mlp.c_proj', act(run(block, 'mlp.c_fc', run(block, 'ln_2', x)))));
      }
      return run(this.root, 'lm_head', run(t, 'ln_f', x));
    });
  }
}

function head(root: Module, embed: Embedding, tied: boolean, hidden: number, vocab: number): void {
  root.registerModule('lm_head', tied ? new TiedLinear(embed.weight) : new Linear(hidden, vocab, { bias: false }));
}

const parts = (modelType: string, root: Module, config: Config, numLayers: number, tied: Record<string, string> | undefined) => ({
  modelType,
  architecture: modelType,
  root: root.eval(),
  config: { model_type: modelType, ...config },
  processor: { towers: { language: ['**'] } },
  generationConfig: { eos_token_id: config.eos_token_id, pad_token_id: config.pad_token_id },
  numLayers,
  tied,
  // A stand-in tokenizer file: the exporter copies tokenizer files byte for byte.
  tokenizerFiles: new Map([['tokenizer_config.json', new TextEncoder().encode('{"model_max_length": 32}\n')]]),
});

/** A tiny Llama; `config` overrides LlamaConfig fields (heads 4, kv heads 2, head_dim 8, 2 layers, vocab 40). */
export function tinyLlama(config: Config = {}, seed = 1): CausalLMBase<Config> {
  const c: Config = {
    vocab_size: 40,
    hidden_size: 24,
    intermediate_size: 40,
    num_hidden_layers: 2,
    num_attention_heads: 4,
    num_key_value_heads: 2,
    head_dim: 8,
    hidden_act: 'silu',
    rms_norm_eps: 1e-6,
    rope_theta: 10000,
    rope_scaling: null,
    attention_bias: false,
    mlp_bias: false,
    tie_word_embeddings: false,
    eos_token_id: 2,
    pad_token_id: 0,
    ...config,
  };
  const [d, hd, f] = [num(c, 'hidden_size'), num(c, 'head_dim'), num(c, 'intermediate_size')];
  const root = new Node();
  const model = root.registerModule('model', new Node());
  const embed = model.registerModule('embed_tokens', new Embedding(num(c, 'vocab_size'), d));
  const layers = model.registerModule('layers', new ModuleList());
  for (let i = 0; i < num(c, 'num_hidden_layers'); i++) {
    const layer = new Node();
    const bias = c.attention_bias as boolean;
    layer.registerModule(
      'self_attn',
      new CausalSelfAttention({
        embedDim: d,
        numHeads: num(c, 'num_attention_heads'),
        numKeyValueHeads: num(c, 'num_key_value_heads'),
        headDim: hd,
        bias,
      }),
    );
    const mlp = layer.registerModule('mlp', new Node());
    const mlpBias = c.mlp_bias as boolean;
    mlp.registerModule('gate_proj', new Linear(d, f, { bias: mlpBias }));
    mlp.registerModule('up_proj', new Linear(d, f, { bias: mlpBias }));
    mlp.registerModule('down_proj', new Linear(f, d, { bias: mlpBias }));
    layer.registerModule('input_layernorm', new RMSNorm(d, { eps: num(c, 'rms_norm_eps') }));
    layer.registerModule('post_attention_layernorm', new RMSNorm(d, { eps: num(c, 'rms_norm_eps') }));
    layers.append(layer);
  }
  model.registerModule('norm', new RMSNorm(d, { eps: num(c, 'rms_norm_eps') }));
  head(root, embed, c.tie_word_embeddings as boolean, d, num(c, 'vocab_size'));
  randomise(root, seed, 0.3);
  return new TinyLlama(
    parts(
      'llama',
      root,
      c,
      num(c, 'num_hidden_layers'),
      c.tie_word_embeddings ? { 'lm_head.weight': 'model.embed_tokens.weight' } : undefined,
    ),
  );
}

/** A tiny OPT; `config` overrides OPTConfig fields (hidden 16, 4 heads, 2 layers, vocab 40, pre-LN, tied). */
export function tinyOpt(config: Config = {}, seed = 2): CausalLMBase<Config> {
  const c: Config = {
    vocab_size: 40,
    hidden_size: 16,
    ffn_dim: 32,
    num_hidden_layers: 2,
    num_attention_heads: 4,
    word_embed_proj_dim: 16,
    do_layer_norm_before: true,
    activation_function: 'relu',
    enable_bias: true,
    layer_norm_elementwise_affine: true,
    max_position_embeddings: 32,
    tie_word_embeddings: true,
    _remove_final_layer_norm: false,
    eos_token_id: 2,
    pad_token_id: 1,
    ...config,
  };
  const [d, p, bias, affine] = [
    num(c, 'hidden_size'),
    num(c, 'word_embed_proj_dim'),
    c.enable_bias as boolean,
    c.layer_norm_elementwise_affine as boolean,
  ];
  const root = new Node();
  const model = root.registerModule('model', new Node());
  const dec = model.registerModule('decoder', new Node());
  const embed = dec.registerModule('embed_tokens', new Embedding(num(c, 'vocab_size'), p));
  dec.registerModule('embed_positions', new Embedding(num(c, 'max_position_embeddings') + 2, d));
  if (p !== d) {
    dec.registerModule('project_out', new Linear(d, p, { bias: false }));
    dec.registerModule('project_in', new Linear(p, d, { bias: false }));
  }
  if (c.do_layer_norm_before) dec.registerModule('final_layer_norm', new LayerNorm(d, { elementwiseAffine: affine }));
  const layers = dec.registerModule('layers', new ModuleList());
  for (let i = 0; i < num(c, 'num_hidden_layers'); i++) {
    const layer = new Node();
    layer.registerModule(
      'self_attn',
      new CausalSelfAttention({
        embedDim: d,
        numHeads: num(c, 'num_attention_heads'),
        bias,
        scaleQueries: true,
        names: { output: 'out_proj' },
      }),
    );
    layer.registerModule('self_attn_layer_norm', new LayerNorm(d, { elementwiseAffine: affine }));
    layer.registerModule('fc1', new Linear(d, num(c, 'ffn_dim'), { bias }));
    layer.registerModule('fc2', new Linear(num(c, 'ffn_dim'), d, { bias }));
    layer.registerModule('final_layer_norm', new LayerNorm(d, { elementwiseAffine: affine }));
    layers.append(layer);
  }
  head(root, embed, c.tie_word_embeddings as boolean, p, num(c, 'vocab_size'));
  randomise(root, seed, 0.3);
  return new TinyOpt(
    parts(
      'opt',
      root,
      c,
      num(c, 'num_hidden_layers'),
      c.tie_word_embeddings ? { 'lm_head.weight': 'model.decoder.embed_tokens.weight' } : undefined,
    ),
  );
}

/** A tiny GPT-2; `config` overrides GPT2Config fields (n_embd 16, 4 heads, 2 layers, vocab 40, tied). */
export function tinyGpt2(config: Config = {}, seed = 3): CausalLMBase<Config> {
  const c: Config = {
    vocab_size: 40,
    n_embd: 16,
    n_head: 4,
    n_layer: 2,
    n_positions: 32,
    activation_function: 'gelu_new',
    layer_norm_epsilon: 1e-5,
    scale_attn_weights: true,
    scale_attn_by_inverse_layer_idx: false,
    tie_word_embeddings: true,
    eos_token_id: 2,
    pad_token_id: 2,
    ...config,
  };
  const [d, eps] = [num(c, 'n_embd'), num(c, 'layer_norm_epsilon')];
  const root = new Node();
  const t = root.registerModule('transformer', new Node());
  const wte = t.registerModule('wte', new Embedding(num(c, 'vocab_size'), d));
  t.registerModule('wpe', new Embedding(num(c, 'n_positions'), d));
  const h = t.registerModule('h', new ModuleList());
  for (let i = 0; i < num(c, 'n_layer'); i++) {
    const block = new Node();
    block.registerModule('ln_1', new LayerNorm(d, { eps }));
    const attn = block.registerModule('attn', new Node());
    attn.registerModule('c_attn', new Conv1D(d, 3 * d));
    attn.registerModule('c_proj', new Conv1D(d, d));
    block.registerModule('ln_2', new LayerNorm(d, { eps }));
    const mlp = block.registerModule('mlp', new Node());
    mlp.registerModule('c_fc', new Conv1D(d, 4 * d));
    mlp.registerModule('c_proj', new Conv1D(4 * d, d));
    h.append(block);
  }
  t.registerModule('ln_f', new LayerNorm(d, { eps }));
  head(root, wte, c.tie_word_embeddings as boolean, d, num(c, 'vocab_size'));
  randomise(root, seed, 0.3);
  return new TinyGpt2(
    parts('gpt2', root, c, num(c, 'n_layer'), c.tie_word_embeddings ? { 'lm_head.weight': 'transformer.wte.weight' } : undefined),
  );
}
