// IdeficsGatedCrossAttentionLayer (transformers src/transformers/models/idefics/modeling_idefics.py):
// the text attends to the image hidden states through a bias-free, RoPE-free attention (q from the
// text width, k/v from the vision width), rows that see no image are zeroed (cross_attention_gate),
// then a SwiGLU MLP; each branch is scaled by tanh of its gate (alpha_cross_attn, alpha_dense),
// so gates at zero leave the hidden state exactly as it came in.
import * as tf from '@tensorflow/tfjs-core';
import {
  getActivation,
  Linear,
  Module,
  MultiHeadAttention,
  normal,
  ones,
  RMSNorm,
  zeros,
  type Activation,
  type Initializer,
} from '@mmft/core/nn';
import type { IdeficsConfigJson } from './config';

/** What one gated layer reads of the images for the current call. */
export interface CrossAttentionInputs {
  /** Image hidden states [B, S, vision width] (every image of the row, image_seq_len each). */
  readonly imageStates: tf.Tensor;
  /** Additive mask [B, 1, T, S]: 0 on the slots of the image a token attends to. */
  readonly mask: tf.Tensor;
  /** [B, T, 1]: 1 where the token attends to an image, 0 where its cross-attention output is zeroed. */
  readonly gate: tf.Tensor;
}

/** IdeficsMLP of modeling_idefics.py: down_proj(act(gate_proj(x)) · up_proj(x)), bias-free. */
export class IdeficsMLP extends Module<[tf.Tensor], tf.Tensor> {
  private readonly act: Activation;

  constructor(hidden: number, intermediate: number, act: string, seed?: number) {
    super();
    const s = (k: number) => (seed === undefined ? undefined : seed + k);
    this.registerModule('gate_proj', new Linear(hidden, intermediate, { bias: false, seed: s(1) }));
    this.registerModule('down_proj', new Linear(intermediate, hidden, { bias: false, seed: s(2) }));
    this.registerModule('up_proj', new Linear(hidden, intermediate, { bias: false, seed: s(3) }));
    this.act = getActivation(act);
  }

  forward(x: tf.Tensor): tf.Tensor {
    return tf.tidy(() => {
      const gate = this.act(this.child<Linear>('gate_proj').forward(x));
      return this.child<Linear>('down_proj').forward(tf.mul(gate, this.child<Linear>('up_proj').forward(x)));
    });
  }
}

/** The gates' initial values (IdeficsGatedCrossAttentionLayer.__init__: zeros, ones or normal(0, alphas_initializer_range)). */
function alphaInit(config: IdeficsConfigJson): Initializer {
  if (config.alpha_initializer === 'zeros') return zeros;
  if (config.alpha_initializer === 'ones') return ones;
  return normal(config.alphas_initializer_range);
}

/**
 * One gated cross-attention block, run before every `cross_layer_interval`-th decoder layer.
 *
 * @example
 * const block = new IdeficsGatedCrossAttentionLayer(config, 7);
 * const y = block.forward(hidden); // no images: only the dense branch (tanh(alpha_dense) · mlp)
 */
export class IdeficsGatedCrossAttentionLayer extends Module<[tf.Tensor, CrossAttentionInputs?], tf.Tensor> {
  constructor(config: IdeficsConfigJson, seed?: number) {
    super();
    const hidden = config.hidden_size;
    const s = (k: number) => (seed === undefined ? undefined : seed + k);
    this.registerModule(
      'cross_attn',
      new MultiHeadAttention({
        embedDim: hidden,
        numHeads: config.num_attention_heads,
        kvDim: config.vision_config.embed_dim,
        bias: false,
        names: { output: 'o_proj' },
        seed: s(1),
      }),
    );
    this.registerModule('mlp', new IdeficsMLP(hidden, config.intermediate_size, config.hidden_act, s(10)));
    this.registerModule('input_layernorm', new RMSNorm(hidden, { eps: config.rms_norm_eps }));
    this.registerModule('post_attention_layernorm', new RMSNorm(hidden, { eps: config.rms_norm_eps }));
    const shape = config.alpha_type === 'vector' ? [1, 1, hidden] : [1];
    this.createParameter('alpha_cross_attn', shape, alphaInit(config), { seed: s(20) });
    this.createParameter('alpha_dense', shape, alphaInit(config), { seed: s(21) });
  }

  /**
   * hidden [B, T, D] → [B, T, D]. Without `images` (a text-only call) the cross-attention output is
   * zero for every token, as IDEFICS's all-zero image_attention_mask makes it; the dense branch runs.
   */
  forward(hidden: tf.Tensor, images?: CrossAttentionInputs): tf.Tensor {
    return tf.tidy(() => {
      let h = hidden;
      if (images) {
        const normed = this.child<RMSNorm>('input_layernorm').forward(hidden);
        const attended = this.child<MultiHeadAttention>('cross_attn').forward(normed, {
          keyValueStates: images.imageStates,
          attentionMask: images.mask,
        });
        h = tf.add(hidden, tf.mul(tf.tanh(this.param('alpha_cross_attn')), tf.mul(attended, images.gate)));
      }
      const dense = this.child<IdeficsMLP>('mlp').forward(this.child<RMSNorm>('post_attention_layernorm').forward(h));
      return tf.add(h, tf.mul(tf.tanh(this.param('alpha_dense')), dense));
    });
  }
}
