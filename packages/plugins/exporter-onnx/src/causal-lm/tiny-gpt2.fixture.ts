// Tests only: a tiny GPT-2 (transformers models/gpt2/modeling_gpt2.py) from core's nn blocks under
// GPT2LMHeadModel's state-dict names; tiny-decoders.fixture.ts says why these fixtures exist.
import * as tf from '@tensorflow/tfjs-core';
import type { ModelInputs } from '@mmft/core';
import type { CausalLMBase } from '@mmft/core/lm';
import { attendCausal, Conv1D, Embedding, getActivation, LayerNorm, ModuleList } from '@mmft/core/nn';
import { head, Node, num, parts, randomise, run, TinyDecoder, type Config } from './tiny-decoder-base.fixture';

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
