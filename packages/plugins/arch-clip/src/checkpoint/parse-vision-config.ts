// config.json → ClipVisionModelConfig, as CLIPVisionConfig.from_pretrained reads it
// (transformers/models/clip/configuration_clip.py: CLIPVisionConfig has base_config_key
// "vision_config", so a CLIPModel config.json gives up its `vision_config`). Errors name the file
// and the field as it is spelled in that file.
import { MmftError } from '@mmft/core';
import { ACTIVATIONS } from '@mmft/core/nn';
import { clipVisionModelConfigSchema, type ClipVisionModelConfig } from '../config';

/** config.json `model_type` values the clip-vision provider builds. */
export const CLIP_VISION_MODEL_TYPES = ['clip_vision_model'] as const;

/** Whether a config.json is a full CLIPModel's (the vision tower is then read from vision_config). */
export const isFullClipConfig = (raw: Record<string, unknown>): boolean => raw.model_type === 'clip';

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/**
 * Validates and completes a CLIPVisionModel config.json, or takes the vision tower of a CLIPModel
 * config.json (model_type clip, including the legacy `vision_config_dict` override); `source`
 * names the file in error messages.
 *
 * @example
 * parseClipVisionConfig({ model_type: 'clip', vision_config: { hidden_size: 64 } }).hidden_size; // 64
 */
export function parseClipVisionConfig(raw: unknown, source = 'config'): ClipVisionModelConfig {
  if (!isRecord(raw))
    throw new MmftError('E_CONFIG', `${source}: expected a JSON object, got ${Array.isArray(raw) ? 'an array' : typeof raw}`);
  let fields: Record<string, unknown> = raw;
  let prefix = '';
  if (isFullClipConfig(raw)) {
    const nested = raw.vision_config ?? {};
    const legacy = raw.vision_config_dict;
    if (!isRecord(nested)) throw new MmftError('E_CONFIG', `${source}: "vision_config" must be an object, got ${JSON.stringify(nested)}`);
    fields = { ...nested, ...(isRecord(legacy) ? legacy : {}), model_type: 'clip_vision_model' };
    prefix = 'vision_config.';
  } else if (raw.model_type !== undefined && raw.model_type !== 'clip_vision_model') {
    throw new MmftError(
      'E_CONFIG',
      `${source}: model_type ${JSON.stringify(raw.model_type)} is not a CLIP vision checkpoint; known model types: clip_vision_model, clip (its vision tower)`,
      { hint: 'load this folder with the architecture plugin that provides its model_type (mmft plugins lists them)' },
    );
  }
  const parsed = clipVisionModelConfigSchema.safeParse(fields);
  if (!parsed.success) {
    const issue = parsed.error.issues[0]!;
    throw new MmftError('E_CONFIG', `${source}: field "${prefix}${issue.path.join('.')}": ${issue.message}`, {
      hint: 'compare with CLIPVisionConfig in configuration_clip.py of transformers',
    });
  }
  const config = parsed.data;
  if (config.hidden_size % config.num_attention_heads !== 0) {
    throw new MmftError(
      'E_CONFIG',
      `${source}: ${prefix}hidden_size (${config.hidden_size}) must be divisible by ${prefix}num_attention_heads (${config.num_attention_heads})`,
    );
  }
  if (!Object.prototype.hasOwnProperty.call(ACTIVATIONS, config.hidden_act)) {
    throw new MmftError(
      'E_CONFIG',
      `${source}: ${prefix}hidden_act ${JSON.stringify(config.hidden_act)} is unknown; known: ${Object.keys(ACTIVATIONS).join(', ')}`,
    );
  }
  if (config.patch_size > config.image_size) {
    throw new MmftError(
      'E_CONFIG',
      `${source}: ${prefix}patch_size (${config.patch_size}) is larger than ${prefix}image_size (${config.image_size})`,
    );
  }
  return config;
}
