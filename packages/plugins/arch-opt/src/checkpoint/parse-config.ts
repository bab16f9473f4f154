// Turns a config.json object into an OptConfig with HF's defaults (OPTConfig in transformers'
// models/opt/configuration_opt.py, including __post_init__'s word_embed_proj_dim = hidden_size), or an
// MmftError naming the file and field.
import { MmftError, parseConfig } from '@mmft/core';
import { ACTIVATIONS } from '@mmft/core/nn';
import { optConfigSchema, type OptConfig } from '../config';

/** config.json `model_type` values this plugin builds. */
export const OPT_MODEL_TYPES = ['opt'] as const;

const isRecord = (value: unknown): value is Record<string, unknown> => typeof value === 'object' && value !== null && !Array.isArray(value);

/**
 * Validates and completes an OPT config.json; `source` names the file in error messages.
 *
 * @example
 * const config = parseOptConfig(JSON.parse(text), 'models/opt-125m/config.json');
 * config.word_embed_proj_dim; // hidden_size when the file leaves it out
 */
export function parseOptConfig(raw: unknown, source = 'config'): OptConfig {
  if (!isRecord(raw))
    throw new MmftError('E_CONFIG', `${source}: expected a JSON object, got ${Array.isArray(raw) ? 'an array' : typeof raw}`);
  const modelType = raw.model_type ?? 'opt';
  if (!OPT_MODEL_TYPES.includes(modelType as 'opt')) {
    throw new MmftError(
      'E_CONFIG',
      `${source}: model_type ${JSON.stringify(modelType)} is not an OPT checkpoint; known model types: ${OPT_MODEL_TYPES.join(', ')}`,
      { hint: 'load this folder with the architecture plugin that provides its model_type (mmft plugins lists them)' },
    );
  }
  const parsed = parseConfig(optConfigSchema, raw, source, { hint: 'compare with configuration_opt.py in transformers' });
  const config = { ...parsed, word_embed_proj_dim: parsed.word_embed_proj_dim ?? parsed.hidden_size } as OptConfig;
  if (config.hidden_size % config.num_attention_heads !== 0) {
    throw new MmftError(
      'E_CONFIG',
      `${source}: hidden_size (${config.hidden_size}) must be divisible by num_attention_heads (${config.num_attention_heads})`,
      { hint: 'OPTAttention splits hidden_size into num_attention_heads heads of equal width' },
    );
  }
  if (!Object.prototype.hasOwnProperty.call(ACTIVATIONS, config.activation_function)) {
    throw new MmftError(
      'E_CONFIG',
      `${source}: activation_function ${JSON.stringify(config.activation_function)} is unknown; known: ${Object.keys(ACTIVATIONS).join(', ')}`,
    );
  }
  return config;
}

/** Whether the decoder has `final_layer_norm` (OPTDecoder.__init__: pre-LN and not removed). */
export const hasFinalLayerNorm = (config: OptConfig): boolean => config.do_layer_norm_before && !config._remove_final_layer_norm;

/** Whether the decoder has project_in / project_out (word embeddings narrower or wider than the decoder). */
export const hasProjections = (config: OptConfig): boolean => config.word_embed_proj_dim !== config.hidden_size;
