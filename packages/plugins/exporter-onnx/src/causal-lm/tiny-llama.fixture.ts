// Tests only: a tiny Llama (transformers models/llama/modeling_llama.py) from core's nn blocks under
// LlamaForCausalLM's state-dict names; tiny-decoders.fixture.ts says why these fixtures exist.
import * as tf from '@tensorflow/tfjs-core';
import type { ModelInputs } from '@mmft/core';
import type { CausalLMBase } from '@mmft/core/lm';
import { CausalSelfAttention, Embedding, getActivation, Linear, ModuleList, RMSNorm, RotaryEmbedding } from '@mmft/core/nn';
import { head, Node, num, parts, randomise, run, TinyDecoder, type Config } from './tiny-decoder-base.fixture';

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
