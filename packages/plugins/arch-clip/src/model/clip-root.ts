// The module tree of HF's CLIPModel: text_model, vision_model, the two bias-free projections and
// the scalar logit_scale, so parameter names equal CLIPModel state-dict keys. The forward pass
// follows CLIPModel.forward / get_text_features / get_image_features in
// transformers/models/clip/modeling_clip.py.
import * as tf from '@tensorflow/tfjs-core';
import { MmftError } from '@mmft/core';
import { deriveSeed, Linear, Module } from '@mmft/core/nn';
import type { ClipConfig } from '../config';
import { ClipTextTransformer } from './text-transformer';
import { ClipVisionTransformer } from './vision-transformer';

/** Inputs of the CLIP forward pass, in the names of the shared ModelInputs contract. */
export interface ClipInputs {
  /** [B, C, H, W] float32, already normalised with the checkpoint's mean/std. */
  pixelValues?: tf.Tensor;
  /** [B, T] int32. */
  inputIds?: tf.Tensor;
  /** [B, T], 1 for tokens, 0 for padding. */
  attentionMask?: tf.Tensor;
}

/** L2-normalise the last axis as HF's `_get_vector_norm` does (no epsilon). */
export function l2Normalize(x: tf.Tensor): tf.Tensor {
  return tf.tidy(() => tf.div(x, tf.sqrt(tf.sum(tf.square(x), -1, true))));
}

/**
 * CLIPModel's parameters and computation.
 *
 * @example
 * const root = new ClipRoot(parseClipConfig({}));
 * root.namedParameters().map(([n]) => n); // 'logit_scale', 'text_model.embeddings.token_embedding.weight', ...
 */
export class ClipRoot extends Module<[ClipInputs], Record<string, tf.Tensor>> {
  constructor(
    readonly config: ClipConfig,
    seed?: number,
  ) {
    super();
    const { text_config: text, vision_config: vision, projection_dim: proj } = config;
    this.registerModule('text_model', new ClipTextTransformer(text, deriveSeed(seed, 'text_model')));
    this.registerModule('vision_model', new ClipVisionTransformer(vision, deriveSeed(seed, 'vision_model')));
    this.registerModule(
      'visual_projection',
      new Linear(vision.hidden_size, proj, { bias: false, seed: deriveSeed(seed, 'visual_projection') }),
    );
    this.registerModule('text_projection', new Linear(text.hidden_size, proj, { bias: false, seed: deriveSeed(seed, 'text_projection') }));
    this.createParameter('logit_scale', [], (shape) => tf.fill([...shape], config.logit_scale_init_value));
  }

  /** text_projection(pooled text), not normalised: [B, projection_dim]. */
  textFeatures(inputIds: tf.Tensor, attentionMask?: tf.Tensor): tf.Tensor {
    return tf.tidy(() => {
      const { pooledOutput } = this.child<ClipTextTransformer>('text_model').forward(inputIds, attentionMask);
      return this.child<Module<[tf.Tensor], tf.Tensor>>('text_projection').forward(pooledOutput);
    });
  }

  /** visual_projection(pooled image), not normalised: [B, projection_dim]. */
  imageFeatures(pixelValues: tf.Tensor): tf.Tensor {
    return tf.tidy(() => {
      const { pooledOutput } = this.child<ClipVisionTransformer>('vision_model').forward(pixelValues);
      return this.child<Module<[tf.Tensor], tf.Tensor>>('visual_projection').forward(pooledOutput);
    });
  }

  /**
   * Both towers → normalised embeds and logits (logitsPerText = exp(logit_scale)·T·Iᵀ,
   * logitsPerImage its transpose). Given one modality only, returns that modality's embeds.
   */
  forward(inputs: ClipInputs): Record<string, tf.Tensor> {
    const { pixelValues, inputIds, attentionMask } = inputs;
    if (!pixelValues && !inputIds) {
      throw new MmftError('E_INPUT', 'CLIP forward needs pixelValues [B, 3, H, W], inputIds [B, T] or both', {
        hint: 'tokenize texts with model.tokenizer.encode and preprocess images with model.imageProcessing',
      });
    }
    return tf.tidy(() => {
      const out: Record<string, tf.Tensor> = {};
      if (pixelValues) out.imageEmbeds = l2Normalize(this.imageFeatures(pixelValues));
      if (inputIds) out.textEmbeds = l2Normalize(this.textFeatures(inputIds, attentionMask));
      if (out.imageEmbeds && out.textEmbeds) {
        const logitsPerText = tf.mul(tf.matMul(out.textEmbeds, out.imageEmbeds, false, true), tf.exp(this.param('logit_scale')));
        out.logitsPerText = logitsPerText;
        out.logitsPerImage = tf.transpose(logitsPerText);
      }
      return out;
    });
  }
}
