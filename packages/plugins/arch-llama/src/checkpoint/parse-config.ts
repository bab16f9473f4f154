// Turns a config.json object into a LlamaConfig with HF's defaults, or an MmftError naming the file
// and field. Mirrors LlamaConfig.__init__ / __post_init__ (transformers
// src/transformers/models/llama/configuration_llama.py): num_key_value_heads None → num_attention_heads,
// head_dim None → hidden_size // num_attention_heads; the rope_scaling "type" key of older files is
// read as "rope_type" (modeling_rope_utils.py rope_config_validation does the same).
import { MmftError, parseConfig } from '@mmft/core';
import { ACTIVATIONS } from '@mmft/core/nn';
import { llamaConfigSchema, type LlamaConfig } from '../config';

/** config.json `model_type` values this plugin builds. */
export const LLAMA_MODEL_TYPES = ['llama'] as const;

const isRecord = (value: unknown): value is Record<string, unknown> => typeof value === 'object' && value !== null && !Array.isArray(value);

/** The rotary variant a rope dict names ("default" when absent). */
function ropeType(rope: Record<string, unknown> | null | undefined): string {
  const named = rope?.rope_type ?? rope?.type;
  return typeof named === 'string' ? named : 'default';
}

/**
 * The rope_scaling dict the rotary embedding applies: rope_scaling, else transformers 5's
 * rope_parameters (which carries rope_type and factor too); null for plain RoPE.
 *
 * @example
 * new RotaryEmbedding({ dim: config.head_dim, base: config.rope_theta, scaling: ropeScalingOf(config) });
 */
export function ropeScalingOf(config: LlamaConfig): Record<string, unknown> | null {
  if (config.rope_scaling) return config.rope_scaling;
  return config.rope_parameters && ropeType(config.rope_parameters) !== 'default' ? config.rope_parameters : null;
}

/**
 * Validates and completes a Llama config.json; `source` names the file in error messages.
 *
 * @example
 * const config = parseLlamaConfig(JSON.parse(text), '/models/llama/config.json');
 * config.head_dim; // hidden_size / num_attention_heads when the file leaves it out
 */
export function parseLlamaConfig(raw: unknown, source = 'config'): LlamaConfig {
  if (!isRecord(raw))
    throw new MmftError('E_CONFIG', `${source}: expected a JSON object, got ${Array.isArray(raw) ? 'an array' : typeof raw}`);
  const modelType = raw.model_type ?? 'llama';
  if (!LLAMA_MODEL_TYPES.includes(modelType as 'llama')) {
    throw new MmftError(
      'E_CONFIG',
      `${source}: model_type ${JSON.stringify(modelType)} is not a Llama checkpoint; known model types: ${LLAMA_MODEL_TYPES.join(', ')}`,
      { hint: 'load this folder with the architecture plugin that provides its model_type (mmft plugins lists them)' },
    );
  }
  const parsed = parseConfig(llamaConfigSchema, raw, source, { hint: 'compare with configuration_llama.py in transformers' });
  const fail = (message: string, hint?: string): never => {
    throw new MmftError('E_CONFIG', `${source}: ${message}`, { hint });
  };
  const heads = parsed.num_attention_heads;
  // transformers 4.x only needs the division when head_dim is derived from it; an explicit head_dim
  // (q_proj of heads·head_dim outputs) is allowed to differ from hidden_size / heads.
  if (parsed.head_dim === null && parsed.hidden_size % heads !== 0) {
    fail(`hidden_size (${parsed.hidden_size}) must be divisible by num_attention_heads (${heads}), or head_dim must be given`);
  }
  const kvHeads = parsed.num_key_value_heads ?? heads;
  if (heads % kvHeads !== 0) {
    fail(
      `num_attention_heads (${heads}) must be a multiple of num_key_value_heads (${kvHeads}): query head h reads key/value head floor(h / ${heads / kvHeads})`,
    );
  }
  const headDim = parsed.head_dim ?? parsed.hidden_size / heads;
  if (headDim % 2 !== 0) fail(`head_dim (${headDim}) must be even: rotary embedding rotates the two halves of each head`);
  if (!Object.prototype.hasOwnProperty.call(ACTIVATIONS, parsed.hidden_act)) {
    fail(`hidden_act ${JSON.stringify(parsed.hidden_act)} is unknown; known: ${Object.keys(ACTIVATIONS).join(', ')}`);
  }
  // transformers 5 keeps rope_theta inside rope_parameters; a file may carry either form.
  const ropeParameters = parsed.rope_parameters ?? undefined;
  const ropeTheta = typeof ropeParameters?.rope_theta === 'number' ? ropeParameters.rope_theta : parsed.rope_theta;
  for (const [field, rope] of [
    ['rope_scaling', parsed.rope_scaling],
    ['rope_parameters', ropeParameters],
  ] as const) {
    const type = ropeType(rope);
    if (type !== 'default' && type !== 'linear') {
      fail(
        `${field}.rope_type ${JSON.stringify(type)} is not supported; supported: default, linear`,
        'dynamic, yarn, longrope and llama3 scaling change the rotary frequencies per length or band; load a checkpoint without them',
      );
    }
    if (type === 'linear' && !(typeof rope?.factor === 'number' && rope.factor >= 1)) {
      fail(`${field}.factor must be a number ≥ 1 for linear scaling, got ${JSON.stringify(rope?.factor)}`);
    }
  }
  if (!(ropeTheta > 0)) fail(`rope_theta must be a positive number, got ${JSON.stringify(ropeTheta)}`);
  return { ...parsed, num_key_value_heads: kvHeads, head_dim: headDim, rope_theta: ropeTheta };
}
