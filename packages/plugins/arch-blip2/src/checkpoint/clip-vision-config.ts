// A CLIP config.json's vision part as a Blip2VisionConfig: the fields both share
// (src/transformers/models/clip/configuration_clip.py CLIPVisionConfig against
// src/transformers/models/blip_2/configuration_blip_2.py Blip2VisionConfig), CLIP's defaults where absent.
import { MmftError } from '@mmft/core';
import type { Blip2ConfigInput } from '../config';
import { CLIP_TYPES, isRecord, type Json } from './part-folders';

type Blip2VisionConfigInput = NonNullable<Blip2ConfigInput['vision_config']>;

/**
 * The Blip2VisionConfig fields of a CLIP config.json (CLIPConfig's vision_config, or a
 * CLIPVisionConfig of model_type clip_vision_model); missing fields take CLIPVisionConfig's
 * defaults (ViT-B/32, src/transformers/models/clip/configuration_clip.py), not BLIP-2's.
 *
 * @example
 * blip2VisionConfigFromClip(clipConfigJson).hidden_act; // 'quick_gelu'
 */
export function blip2VisionConfigFromClip(clipConfig: Json, source = 'config.json'): Blip2VisionConfigInput {
  const modelType = clipConfig.model_type;
  if (!CLIP_TYPES.includes(modelType as string)) {
    throw new MmftError(
      'E_CONFIG',
      `${source}: model_type ${JSON.stringify(modelType)} is not a CLIP config; expected one of ${CLIP_TYPES.join(', ')}`,
    );
  }
  const vision = modelType === 'clip' ? (clipConfig.vision_config ?? {}) : clipConfig;
  if (!isRecord(vision)) throw new MmftError('E_CONFIG', `${source}: vision_config must be an object, got ${JSON.stringify(vision)}`);
  const channels = vision.num_channels ?? 3;
  if (channels !== 3) {
    throw new MmftError(
      'E_CONFIG',
      `${source}: vision_config.num_channels is ${JSON.stringify(channels)}; Blip2VisionModel reads RGB (3 channels)`,
    );
  }
  const pick = <T>(field: string, fallback: T): T => (vision[field] ?? fallback) as T;
  return {
    hidden_size: pick('hidden_size', 768),
    intermediate_size: pick('intermediate_size', 3072),
    num_hidden_layers: pick('num_hidden_layers', 12),
    num_attention_heads: pick('num_attention_heads', 12),
    image_size: pick('image_size', 224),
    patch_size: pick('patch_size', 32),
    hidden_act: pick('hidden_act', 'quick_gelu'),
    layer_norm_eps: pick('layer_norm_eps', 1e-5),
    attention_dropout: pick('attention_dropout', 0),
    initializer_range: pick('initializer_range', 0.02),
    qkv_bias: true,
  };
}
