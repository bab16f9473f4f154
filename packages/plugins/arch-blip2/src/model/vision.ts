// Blip2VisionModel (`vision_model.*`): the EVA ViT of BLIP-2 as transformers writes it
// (src/transformers/models/blip_2/modeling_blip_2.py: Blip2VisionEmbeddings, Blip2Attention,
// Blip2MLP, Blip2EncoderLayer, Blip2Encoder, Blip2VisionModel). Unlike CLIP there is no
// pre-LayerNorm, the patch conv has a bias, class_embedding [1, 1, D] and position_embedding
// [1, N + 1, D] are bare parameters, and attention is one fused `qkv` Linear whose bias is
// cat(q_bias, 0, v_bias) (a state dict stores it fused as `qkv.bias`; 4.26-era files stored
// `q_bias` / `v_bias`, which the loader fuses). The key third of the bias adds q·b_k to every
// score of a query row, which softmax ignores, so training it changes nothing, as in HF.
import * as tf from '@tensorflow/tfjs-core';
import { assertThat } from '@mmft/core';
import {
  blockStack,
  deriveSeed,
  Dropout,
  fanInUniform,
  getActivation,
  LayerNorm,
  Linear,
  Module,
  ModuleList,
  normal,
  runBlocks,
  zeros,
} from '@mmft/core/nn';
import type { Blip2VisionConfig } from '../config';

/**
 * nn.Conv2d(3, D, kernel_size=p, stride=p) with bias, computed as "cut into p×p patches, one matmul"
 * (the same sum for kernel = stride, no padding; trains in Node where tfjs's Conv2D gradient is not
 * loadable). weight [D, 3, p, p] as the checkpoint stores it; pixels [B, 3, H, W] → [B, (H/p)·(W/p), D].
 */
export class Blip2PatchEmbedding extends Module<[tf.Tensor], tf.Tensor> {
  constructor(
    readonly inChannels: number,
    readonly outChannels: number,
    readonly patchSize: number,
    seed?: number,
  ) {
    super();
    const init = fanInUniform(inChannels * patchSize * patchSize);
    this.createParameter('weight', [outChannels, inChannels, patchSize, patchSize], init, { seed: deriveSeed(seed, 'weight') });
    this.createParameter('bias', [outChannels], init, { seed: deriveSeed(seed, 'bias') });
  }

  forward(pixels: tf.Tensor): tf.Tensor {
    const { inChannels: c, outChannels: d, patchSize: p } = this;
    const [batch, , height, width] = pixels.shape as [number, number, number, number];
    const [gh, gw] = [height / p, width / p];
    return tf.tidy(() => {
      const nhwc = tf.transpose(tf.cast(pixels, 'float32'), [0, 2, 3, 1]); // [B, H, W, C]
      const rows = tf.reshape(nhwc, [batch * gh, p, gw, p * c]);
      const patches = tf.reshape(tf.transpose(rows, [0, 2, 1, 3]), [batch * gh * gw, p * p * c]); // (i, j, c) order
      const kernel = tf.reshape(tf.transpose(this.param('weight'), [0, 2, 3, 1]), [d, p * p * c]); // same order
      return tf.reshape(tf.add(tf.matMul(patches, kernel, false, true), this.param('bias')), [batch, gh * gw, d]);
    });
  }
}

/** [class; patches] + position_embedding: pixels [B, 3, S, S] → [B, 1 + (S/p)², D]. */
export class Blip2VisionEmbeddings extends Module<[tf.Tensor], tf.Tensor> {
  readonly numPositions: number;

  constructor(
    readonly config: Blip2VisionConfig,
    seed?: number,
  ) {
    super();
    const dim = config.hidden_size;
    this.numPositions = (config.image_size / config.patch_size) ** 2 + 1;
    // HF registration order: class_embedding, patch_embedding, position_embedding.
    this.createParameter('class_embedding', [1, 1, dim], normal(config.initializer_range), { seed: deriveSeed(seed, 'class_embedding') });
    this.registerModule('patch_embedding', new Blip2PatchEmbedding(3, dim, config.patch_size, deriveSeed(seed, 'patch_embedding')));
    this.createParameter('position_embedding', [1, this.numPositions, dim], normal(config.initializer_range), {
      seed: deriveSeed(seed, 'position_embedding'),
    });
  }

  forward(pixelValues: tf.Tensor): tf.Tensor {
    const { image_size: size } = this.config;
    assertThat(
      pixelValues.rank === 4 && pixelValues.shape[1] === 3 && pixelValues.shape[2] === size && pixelValues.shape[3] === size,
      'E_SHAPE',
      () =>
        `pixel_values must be [batch, 3, ${size}, ${size}] (vision_config.image_size), got [${pixelValues.shape.join(', ')}]; ` +
        `resize images to the model's size`,
    );
    const batch = pixelValues.shape[0]!;
    return tf.tidy(() => {
      const patches = this.child<Blip2PatchEmbedding>('patch_embedding').forward(pixelValues);
      const cls = tf.tile(this.param('class_embedding'), [batch, 1, 1]);
      return tf.add(tf.concat([cls, patches], 1), this.param('position_embedding'));
    });
  }
}

/** Blip2Attention: fused qkv, scale head_dim^-0.5, no mask, softmax, projection. */
export class Blip2Attention extends Module<[tf.Tensor], tf.Tensor> {
  readonly numHeads: number;
  readonly headDim: number;

  constructor(config: Blip2VisionConfig, seed?: number) {
    super();
    const dim = config.hidden_size;
    this.numHeads = config.num_attention_heads;
    this.headDim = dim / this.numHeads;
    this.registerModule('qkv', new Linear(dim, 3 * dim, { bias: config.qkv_bias, seed: deriveSeed(seed, 'qkv'), biasInit: zeros }));
    this.registerModule('projection', new Linear(dim, dim, { seed: deriveSeed(seed, 'projection') }));
    this.registerModule('dropout', new Dropout(config.attention_dropout, { seed: deriveSeed(seed, 'dropout') }));
  }

  forward(hidden: tf.Tensor): tf.Tensor {
    const [b, t, d] = hidden.shape as [number, number, number];
    const { numHeads: h, headDim: hd } = this;
    return tf.tidy(() => {
      // reshape(b, t, 3, H, hd).permute(2, 0, 3, 1, 4) as modeling_blip_2.py, i.e. q, k, v are the
      // three D-wide thirds of the last axis. Split as rank-3 slices: tfjs-backend-wasm has no
      // rank-5 Slice and its fallback took 120 ms per slice at [8, 65, 3, 4, 64] (2 ms at rank 3).
      const thirds = tf.split(this.child<Linear>('qkv').forward(hidden), 3, 2);
      const [q, k, v] = thirds.map((x) => tf.transpose(tf.reshape(x, [b, t, h, hd]), [0, 2, 1, 3]));
      const scores = tf.mul(tf.matMul(q, k, false, true), hd ** -0.5);
      const probs = this.child<Dropout>('dropout').forward(tf.softmax(scores, -1));
      const context = tf.reshape(tf.transpose(tf.matMul(probs, v), [0, 2, 1, 3]), [b, t, d]);
      return this.child<Linear>('projection').forward(context);
    });
  }
}

/** Blip2MLP: fc2(act(fc1(x))). */
export class Blip2MLP extends Module<[tf.Tensor], tf.Tensor> {
  private readonly act: (x: tf.Tensor) => tf.Tensor;

  constructor(config: Blip2VisionConfig, seed?: number) {
    super();
    this.act = getActivation(config.hidden_act);
    this.registerModule('fc1', new Linear(config.hidden_size, config.intermediate_size, { seed: deriveSeed(seed, 'fc1') }));
    this.registerModule('fc2', new Linear(config.intermediate_size, config.hidden_size, { seed: deriveSeed(seed, 'fc2') }));
  }

  forward(x: tf.Tensor): tf.Tensor {
    return tf.tidy(() => this.child<Linear>('fc2').forward(this.act(this.child<Linear>('fc1').forward(x))));
  }
}

/** Blip2EncoderLayer: x + attn(LN1(x)), then + mlp(LN2(x)) (pre-LN). */
export class Blip2EncoderLayer extends Module<[tf.Tensor], tf.Tensor> {
  constructor(config: Blip2VisionConfig, seed?: number) {
    super();
    const eps = config.layer_norm_eps;
    this.registerModule('self_attn', new Blip2Attention(config, deriveSeed(seed, 'self_attn')));
    this.registerModule('layer_norm1', new LayerNorm(config.hidden_size, { eps }));
    this.registerModule('mlp', new Blip2MLP(config, deriveSeed(seed, 'mlp')));
    this.registerModule('layer_norm2', new LayerNorm(config.hidden_size, { eps }));
  }

  forward(hidden: tf.Tensor): tf.Tensor {
    return tf.tidy(() => {
      const attended = tf.add(
        hidden,
        this.child<Blip2Attention>('self_attn').forward(this.child<LayerNorm>('layer_norm1').forward(hidden)),
      );
      return tf.add(attended, this.child<Blip2MLP>('mlp').forward(this.child<LayerNorm>('layer_norm2').forward(attended)));
    });
  }
}

/** Blip2Encoder: `layers.N`. */
export class Blip2Encoder extends Module<[tf.Tensor], tf.Tensor> {
  constructor(config: Blip2VisionConfig, seed?: number) {
    super();
    const layers = Array.from(
      { length: config.num_hidden_layers },
      (_, i) => new Blip2EncoderLayer(config, deriveSeed(seed, `layers.${i}`)),
    );
    this.registerModule('layers', blockStack(new ModuleList(layers)));
  }

  forward(hidden: tf.Tensor): tf.Tensor {
    return tf.tidy(() => runBlocks(this.child<ModuleList<Blip2EncoderLayer>>('layers'), hidden, (layer, x) => layer.forward(x)));
  }
}

/** What the vision model returns: post_layernorm(states) and post_layernorm applied again to the class token. */
export interface Blip2VisionOutput {
  /** [B, 1 + N, D]; BLIP-2's Q-Former cross-attends to all of it. */
  readonly lastHiddenState: tf.Tensor;
  /** [B, D]: post_layernorm(lastHiddenState[:, 0]) (the LayerNorm twice, as HF). */
  readonly poolerOutput: tf.Tensor;
}

/**
 * Blip2VisionModel: embeddings → encoder → post_layernorm.
 *
 * @example
 * const { lastHiddenState } = new Blip2VisionModel(config.vision_config).forward(pixelValues); // [B, 257, 1408]
 */
export class Blip2VisionModel extends Module<[tf.Tensor], Blip2VisionOutput> {
  constructor(
    readonly config: Blip2VisionConfig,
    seed?: number,
  ) {
    super();
    this.registerModule('embeddings', new Blip2VisionEmbeddings(config, deriveSeed(seed, 'embeddings')));
    this.registerModule('encoder', new Blip2Encoder(config, deriveSeed(seed, 'encoder')));
    this.registerModule('post_layernorm', new LayerNorm(config.hidden_size, { eps: config.layer_norm_eps }));
  }

  forward(pixelValues: tf.Tensor): Blip2VisionOutput {
    return tf.tidy(() => {
      const post = this.child<LayerNorm>('post_layernorm');
      const lastHiddenState = post.forward(
        this.child<Blip2Encoder>('encoder').forward(this.child<Blip2VisionEmbeddings>('embeddings').forward(pixelValues)),
      );
      const [b, , d] = lastHiddenState.shape as [number, number, number];
      const poolerOutput = post.forward(tf.reshape(tf.slice(lastHiddenState, [0, 0, 0], [b, 1, d]), [b, d]));
      return { lastHiddenState, poolerOutput };
    });
  }
}
