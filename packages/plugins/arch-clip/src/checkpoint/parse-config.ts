// Turns a config.json object into a ClipConfig with HF's defaults, or an MmftError that names the
// file and field. Mirrors CLIPConfig.__init__ (transformers/models/clip/configuration_clip.py),
// including the legacy `text_config_dict` / `vision_config_dict` keys that override the sub-configs.
import { ACTIVATIONS } from '@mmft/core/nn';
import { MmftError } from '@mmft/core';
import { clipConfigSchema, type ClipConfig } from '../config';

/** config.json `model_type` values this plugin builds. */
export const CLIP_MODEL_TYPES = ['clip'] as const;

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/** Folds the pre-4.26 `*_config_dict` keys into the sub-configs, as CLIPConfig.__init__ does. */
function foldLegacyDicts(raw: Record<string, unknown>): Record<string, unknown> {
  const out = { ...raw };
  for (const tower of ['text', 'vision'] as const) {
    const legacy = out[`${tower}_config_dict`];
    delete out[`${tower}_config_dict`];
    const current = out[`${tower}_config`];
    if (isRecord(legacy)) out[`${tower}_config`] = { ...(isRecord(current) ? current : {}), ...legacy };
  }
  return out;
}

/**
 * Validates and completes a CLIP config.json; `source` names the file in error messages.
 *
 * @example
 * const config = parseClipConfig(JSON.parse(text), '/models/clip/config.json');
 * config.text_config.hidden_act; // 'quick_gelu' when the file leaves it out
 */
export function parseClipConfig(raw: unknown, source = 'config'): ClipConfig {
  if (!isRecord(raw))
    throw new MmftError('E_CONFIG', `${source}: expected a JSON object, got ${Array.isArray(raw) ? 'an array' : typeof raw}`);
  const modelType = raw.model_type ?? 'clip';
  if (!CLIP_MODEL_TYPES.includes(modelType as 'clip')) {
    throw new MmftError(
      'E_CONFIG',
      `${source}: model_type ${JSON.stringify(modelType)} is not a CLIP checkpoint; known model types: ${CLIP_MODEL_TYPES.join(', ')}`,
      {
        hint: 'load this folder with the architecture plugin that provides its model_type (mmft plugins lists them)',
      },
    );
  }
  const parsed = clipConfigSchema.safeParse(foldLegacyDicts(raw));
  if (!parsed.success) {
    const issue = parsed.error.issues[0]!;
    throw new MmftError('E_CONFIG', `${source}: field "${issue.path.join('.')}": ${issue.message}`, {
      hint: 'compare with configuration_clip.py in transformers',
    });
  }
  const config = parsed.data;
  for (const [name, tower] of [
    ['text_config', config.text_config],
    ['vision_config', config.vision_config],
  ] as const) {
    if (tower.hidden_size % tower.num_attention_heads !== 0) {
      throw new MmftError(
        'E_CONFIG',
        `${source}: ${name}.hidden_size (${tower.hidden_size}) must be divisible by ${name}.num_attention_heads (${tower.num_attention_heads})`,
      );
    }
    if (!Object.prototype.hasOwnProperty.call(ACTIVATIONS, tower.hidden_act)) {
      throw new MmftError(
        'E_CONFIG',
        `${source}: ${name}.hidden_act ${JSON.stringify(tower.hidden_act)} is unknown; known: ${Object.keys(ACTIVATIONS).join(', ')}`,
      );
    }
  }
  const { image_size, patch_size } = config.vision_config;
  if (patch_size > image_size) {
    throw new MmftError('E_CONFIG', `${source}: vision_config.patch_size (${patch_size}) is larger than image_size (${image_size})`);
  }
  return config;
}
