// The transformer stack both CLIP towers share: CLIPMLP, CLIPEncoderLayer (pre-LayerNorm,
// residual around attention and around the MLP) and CLIPEncoder, with HF's child names so that
// parameters come out as `encoder.layers.{i}.self_attn.q_proj.weight` etc. Follows
// transformers/models/clip/modeling_clip.py.
import * as tf from '@tensorflow/tfjs-core';
import { blockStack, deriveSeed, getActivation, LayerNorm, Linear, Module, ModuleList, MultiHeadAttention, runBlocks } from '@mmft/core/nn';

/** The fields of a tower config the encoder reads (CLIPTextConfig and CLIPVisionConfig share them). */
export interface EncoderSettings {
  hidden_size: number;
  intermediate_size: number;
  num_hidden_layers: number;
  num_attention_heads: number;
  hidden_act: string;
  layer_norm_eps: number;
  attention_dropout: number;
}

/** fc1 → activation (by `hidden_act`) → fc2. */
export class ClipMlp extends Module<[tf.Tensor], tf.Tensor> {
  private readonly activation: (x: tf.Tensor) => tf.Tensor;

  constructor(settings: EncoderSettings, seed?: number) {
    super();
    this.activation = getActivation(settings.hidden_act);
    this.registerModule('fc1', new Linear(settings.hidden_size, settings.intermediate_size, { seed: deriveSeed(seed, 'fc1') }));
    this.registerModule('fc2', new Linear(settings.intermediate_size, settings.hidden_size, { seed: deriveSeed(seed, 'fc2') }));
  }

  forward(x: tf.Tensor): tf.Tensor {
    const fc = (name: string) => this.child<Module<[tf.Tensor], tf.Tensor>>(name); // read at call time: PEFT may wrap it
    return tf.tidy(() => fc('fc2').forward(this.activation(fc('fc1').forward(x))));
  }
}

/** x + attn(ln1(x)), then x + mlp(ln2(x)). */
export class ClipEncoderLayer extends Module<[tf.Tensor, tf.Tensor | undefined], tf.Tensor> {
  constructor(settings: EncoderSettings, seed?: number) {
    super();
    // Registration order follows CLIPEncoderLayer.__init__, so state dicts list names as HF does.
    this.registerModule(
      'self_attn',
      new MultiHeadAttention({
        embedDim: settings.hidden_size,
        numHeads: settings.num_attention_heads,
        dropout: settings.attention_dropout,
        seed: deriveSeed(seed, 'self_attn'),
      }),
    );
    this.registerModule('layer_norm1', new LayerNorm(settings.hidden_size, { eps: settings.layer_norm_eps }));
    this.registerModule('mlp', new ClipMlp(settings, deriveSeed(seed, 'mlp')));
    this.registerModule('layer_norm2', new LayerNorm(settings.hidden_size, { eps: settings.layer_norm_eps }));
  }

  forward(hidden: tf.Tensor, attentionMask: tf.Tensor | undefined): tf.Tensor {
    const ln = (name: string) => this.child<LayerNorm>(name);
    return tf.tidy(() => {
      const attended = tf.add(
        hidden,
        this.child<MultiHeadAttention>('self_attn').forward(ln('layer_norm1').forward(hidden), { attentionMask }),
      );
      return tf.add(attended, this.child<ClipMlp>('mlp').forward(ln('layer_norm2').forward(attended)));
    });
  }
}

/**
 * `num_hidden_layers` encoder layers applied in order, under the child name `layers`.
 *
 * @example
 * const encoder = new ClipEncoder(config.text_config);
 * const out = encoder.forward(embeddings, causalMask(T)); // [B, T, D]
 */
export class ClipEncoder extends Module<[tf.Tensor, tf.Tensor | undefined], tf.Tensor> {
  constructor(settings: EncoderSettings, seed?: number) {
    super();
    const layers = Array.from(
      { length: settings.num_hidden_layers },
      (_, i) => new ClipEncoderLayer(settings, deriveSeed(seed, `layers.${i}`)),
    );
    this.registerModule('layers', blockStack(new ModuleList(layers)));
  }

  forward(hidden: tf.Tensor, attentionMask: tf.Tensor | undefined): tf.Tensor {
    const layers = this.child<ModuleList<ClipEncoderLayer>>('layers');
    // The mask is passed along (not captured) so that a checkpointed layer's recomputation can still read it.
    const constants = attentionMask ? [attentionMask] : [];
    return tf.tidy(() => runBlocks(layers, hidden, (layer, h, [mask]) => layer.forward(h, mask), { constants }));
  }
}
