// Tests only: a tiny OPT (transformers models/opt/modeling_opt.py) from core's nn blocks under
// OPTForCausalLM's state-dict names; tiny-decoders.fixture.ts says why these fixtures exist.
import * as tf from '@tensorflow/tfjs-core';
import type { ModelInputs } from '@mmft/core';
import type { CausalLMBase } from '@mmft/core/lm';
import { CausalSelfAttention, Embedding, getActivation, LayerNorm, Linear, ModuleList } from '@mmft/core/nn';
import { head, Node, num, parts, randomise, run, TinyDecoder, type Config } from './tiny-decoder-base.fixture';

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
