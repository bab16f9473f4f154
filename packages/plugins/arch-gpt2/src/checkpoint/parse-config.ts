// Turns a config.json object into a Gpt2Config with HF's defaults, or an MmftError that names the
// file and field. Mirrors GPT2Config.__init__ (transformers/models/gpt2/configuration_gpt2.py),
// including its attribute_map: hidden_size, max_position_embeddings, num_attention_heads and
// num_hidden_layers set n_embd, n_positions, n_head and n_layer.
import { MmftError, parseConfig } from '@mmft/core';
import { ACTIVATIONS } from '@mmft/core/nn';
import { gpt2ConfigSchema, type Gpt2Config } from '../config';

/** config.json `model_type` values this plugin builds. */
export const GPT2_MODEL_TYPES = ['gpt2'] as const;

/** GPT2Config.attribute_map: the common name → GPT-2's own field. */
export const GPT2_ATTRIBUTE_MAP: Readonly<Record<string, keyof Gpt2Config>> = {
  hidden_size: 'n_embd',
  max_position_embeddings: 'n_positions',
  num_attention_heads: 'n_head',
  num_hidden_layers: 'n_layer',
};

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/**
 * Validates and completes a GPT-2 config.json; `source` names the file in error messages.
 *
 * @example
 * const config = parseGpt2Config({ n_embd: 64, n_head: 4 }, 'models/gpt2/config.json');
 * config.n_inner; // null: the MLP is 4 · n_embd wide
 */
export function parseGpt2Config(raw: unknown, source = 'config'): Gpt2Config {
  if (!isRecord(raw))
    throw new MmftError('E_CONFIG', `${source}: expected a JSON object, got ${Array.isArray(raw) ? 'an array' : typeof raw}`);
  const modelType = raw.model_type ?? 'gpt2';
  if (!GPT2_MODEL_TYPES.includes(modelType as 'gpt2')) {
    throw new MmftError(
      'E_CONFIG',
      `${source}: model_type ${JSON.stringify(modelType)} is not a GPT-2 checkpoint; known model types: ${GPT2_MODEL_TYPES.join(', ')}`,
      { hint: 'load this folder with the architecture plugin that provides its model_type (mmft plugins lists them)' },
    );
  }
  // PretrainedConfig sets the leftover kwargs after GPT2Config's own fields, so an alias wins.
  const folded: Record<string, unknown> = { ...raw };
  for (const [alias, field] of Object.entries(GPT2_ATTRIBUTE_MAP)) {
    if (alias in folded) {
      folded[field] = folded[alias];
      delete folded[alias];
    }
  }
  const config = parseConfig(gpt2ConfigSchema, folded, source, { hint: 'compare with configuration_gpt2.py in transformers' });
  if (config.n_embd % config.n_head !== 0) {
    throw new MmftError('E_CONFIG', `${source}: n_embd (${config.n_embd}) must be divisible by n_head (${config.n_head})`, {
      hint: 'GPT2Attention splits n_embd into n_head heads of equal width',
    });
  }
  if (!Object.prototype.hasOwnProperty.call(ACTIVATIONS, config.activation_function)) {
    throw new MmftError(
      'E_CONFIG',
      `${source}: activation_function ${JSON.stringify(config.activation_function)} is unknown; known: ${Object.keys(ACTIVATIONS).join(', ')}`,
    );
  }
  if (config.add_cross_attention) {
    throw new MmftError('E_UNSUPPORTED', `${source}: add_cross_attention is true; GPT-2 blocks with cross-attention are not supported`, {
      hint: 'set add_cross_attention to false (GPT2LMHeadModel as a plain causal LM)',
    });
  }
  return config;
}

/** The MLP width: n_inner, or 4 · n_embd when null (GPT2Block.__init__). */
export function innerDim(config: Gpt2Config): number {
  return config.n_inner ?? 4 * config.n_embd;
}
