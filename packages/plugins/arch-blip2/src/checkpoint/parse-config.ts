// Turns a config.json object into a Blip2Config with transformers' defaults, or an MmftError naming
// the file and field. Mirrors Blip2Config.__init__ / __post_init__
// (transformers src/transformers/models/blip_2/configuration_blip_2.py): the `image_token_id`
// attribute_map alias of image_token_index, qformer_config.encoder_hidden_size forced to
// vision_config.hidden_size, text_config defaulting to OPTConfig() (model_type "opt").
import { MmftError, parseConfig } from '@mmft/core';
import { ACTIVATIONS } from '@mmft/core/nn';
import { blip2ConfigSchema, blip2QFormerConfigSchema, blip2VisionConfigSchema, type Blip2Config } from '../config';

/** config.json `model_type` values this plugin builds. */
export const BLIP2_MODEL_TYPES = ['blip-2'] as const;

const isRecord = (value: unknown): value is Record<string, unknown> => typeof value === 'object' && value !== null && !Array.isArray(value);

/**
 * Validates and completes a BLIP-2 config.json; `source` names the file in error messages.
 *
 * @example
 * const config = parseBlip2Config(JSON.parse(text), 'models/blip2/config.json');
 * config.qformer_config.encoder_hidden_size === config.vision_config.hidden_size; // true
 */
export function parseBlip2Config(raw: unknown, source = 'config'): Blip2Config {
  if (!isRecord(raw))
    throw new MmftError('E_CONFIG', `${source}: expected a JSON object, got ${Array.isArray(raw) ? 'an array' : typeof raw}`);
  const modelType = raw.model_type ?? 'blip-2';
  if (!BLIP2_MODEL_TYPES.includes(modelType as 'blip-2')) {
    throw new MmftError('E_CONFIG', `${source}: model_type ${JSON.stringify(modelType)} is not a BLIP-2 checkpoint; expected "blip-2"`, {
      hint: 'load this folder with the architecture plugin that provides its model_type (mmft plugins lists them)',
    });
  }
  // attribute_map {"image_token_id": "image_token_index"}: a file may carry either name.
  const { image_token_id: alias, ...rest } = raw;
  const withIndex = rest.image_token_index === undefined && alias !== undefined ? { ...rest, image_token_index: alias } : rest;
  const hint = 'compare with configuration_blip_2.py in transformers';
  const parsed = parseConfig(blip2ConfigSchema, withIndex, source, { hint });
  const vision = parseConfig(blip2VisionConfigSchema, parsed.vision_config, `${source} vision_config`, { hint });
  const qformerRaw = parseConfig(blip2QFormerConfigSchema, parsed.qformer_config, `${source} qformer_config`, { hint });
  const fail = (message: string): never => {
    throw new MmftError('E_CONFIG', `${source}: ${message}`, { hint });
  };
  for (const [name, c] of [
    ['vision_config', vision],
    ['qformer_config', qformerRaw],
  ] as const) {
    if (c.hidden_size % c.num_attention_heads !== 0)
      fail(`${name}.hidden_size (${c.hidden_size}) must be divisible by ${name}.num_attention_heads (${c.num_attention_heads})`);
    if (!Object.prototype.hasOwnProperty.call(ACTIVATIONS, c.hidden_act))
      fail(`${name}.hidden_act ${JSON.stringify(c.hidden_act)} is unknown; known: ${Object.keys(ACTIVATIONS).join(', ')}`);
  }
  if (vision.image_size % vision.patch_size !== 0)
    fail(`vision_config.image_size (${vision.image_size}) must be a multiple of vision_config.patch_size (${vision.patch_size})`);
  // Blip2Config.__post_init__: the Q-Former cross-attends to the vision encoder's states.
  const qformer = { ...qformerRaw, encoder_hidden_size: vision.hidden_size };
  return { ...parsed, vision_config: vision, qformer_config: qformer, text_config: parsed.text_config };
}
