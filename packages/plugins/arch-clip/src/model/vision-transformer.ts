// CLIP's vision tower: CLIPVisionEmbeddings (class token + bias-free patch embedding +
// learned positions) → pre_layrnorm (HF's spelling) → encoder without mask → post_layernorm on the
// class token. Follows CLIPVisionEmbeddings / CLIPVisionTransformer in
// transformers/models/clip/modeling_clip.py (without interpolate_pos_encoding).
import * as tf from '@tensorflow/tfjs-core';
import { assertThat } from '@mmft/core';
import { deriveSeed, Embedding, LayerNorm, Module, normal } from '@mmft/core/nn';
import type { ClipVisionConfig } from '../config';
import { ClipEncoder } from './encoder';
import { PatchEmbedding } from './patch-embedding';
import type { TowerOutput } from './text-transformer';

/** [class; patches] + position_embedding(0..N): pixels [B, C, S, S] → [B, 1 + (S/p)², D]. */
export class ClipVisionEmbeddings extends Module<[tf.Tensor], tf.Tensor> {
  readonly numPatches: number;

  constructor(
    readonly config: ClipVisionConfig,
    seed?: number,
  ) {
    super();
    const { hidden_size: dim, patch_size: patch, image_size: size } = config;
    this.numPatches = Math.floor(size / patch) ** 2;
    this.createParameter('class_embedding', [dim], normal(), { seed: deriveSeed(seed, 'class_embedding') });
    this.registerModule(
      'patch_embedding',
      new PatchEmbedding(config.num_channels, dim, patch, { seed: deriveSeed(seed, 'patch_embedding') }),
    );
    this.registerModule('position_embedding', new Embedding(this.numPatches + 1, dim, { seed: deriveSeed(seed, 'position_embedding') }));
  }

  forward(pixelValues: tf.Tensor): tf.Tensor {
    const { image_size: size, num_channels: channels, hidden_size: dim } = this.config;
    assertThat(
      pixelValues.rank === 4 && pixelValues.shape[1] === channels && pixelValues.shape[2] === size && pixelValues.shape[3] === size,
      'E_SHAPE',
      () =>
        `pixel_values must be [batch, ${channels}, ${size}, ${size}] (vision_config.image_size), got [${pixelValues.shape.join(', ')}]; resize images to the model's size`,
    );
    const batch = pixelValues.shape[0]!;
    return tf.tidy(() => {
      const tokens = this.child<PatchEmbedding>('patch_embedding').forward(tf.cast(pixelValues, 'float32')); // [B, N, D]
      const cls = tf.tile(tf.reshape(this.param('class_embedding'), [1, 1, dim]), [batch, 1, 1]);
      const positions = this.child<Embedding>('position_embedding').forward(tf.range(0, this.numPatches + 1, 1, 'int32'));
      return tf.add(tf.concat([cls, tokens], 1), positions);
    });
  }
}

/**
 * The vision transformer (`vision_model.*` in a CLIPModel state dict).
 *
 * @example
 * const { pooledOutput } = visionModel.forward(pixelValues); // [B, hidden_size], post_layernorm(class token)
 */
export class ClipVisionTransformer extends Module<[tf.Tensor], TowerOutput> {
  constructor(
    readonly config: ClipVisionConfig,
    seed?: number,
  ) {
    super();
    this.registerModule('embeddings', new ClipVisionEmbeddings(config, deriveSeed(seed, 'embeddings')));
    this.registerModule('pre_layrnorm', new LayerNorm(config.hidden_size, { eps: config.layer_norm_eps }));
    this.registerModule('encoder', new ClipEncoder(config, deriveSeed(seed, 'encoder')));
    this.registerModule('post_layernorm', new LayerNorm(config.hidden_size, { eps: config.layer_norm_eps }));
  }

  forward(pixelValues: tf.Tensor): TowerOutput {
    return tf.tidy(() => {
      const embedded = this.child<ClipVisionEmbeddings>('embeddings').forward(pixelValues);
      const lastHiddenState = this.child<ClipEncoder>('encoder').forward(
        this.child<LayerNorm>('pre_layrnorm').forward(embedded),
        undefined,
      );
      const [batch, , dim] = lastHiddenState.shape as [number, number, number];
      const cls = tf.reshape(tf.slice(lastHiddenState, [0, 0, 0], [batch, 1, dim]), [batch, dim]);
      return { lastHiddenState, pooledOutput: this.child<LayerNorm>('post_layernorm').forward(cls) };
    });
  }
}
