// The PEFT method providers "prefix-tuning" (peft_type PREFIX_TUNING) and "prompt-tuning"
// (PROMPT_TUNING). adapter_config.json carries PrefixTuningConfig / PromptTuningConfig's fields
// (peft/tuners/{prefix,prompt}_tuning/config.py); token_dim, num_layers and
// num_attention_heads come from the applied model (AppliedAdapter.adapterConfigExtras).
import { baseAdapterConfig, parseAdapterConfigBase, parseConfig, type PeftMethodProvider } from '@mmft/core';
import type { z } from 'zod';
import { prefixTuningSchema, promptTuningSchema, type PrefixTuningConfig, type PromptTuningConfig } from './config';
import { applyPrefixTuning } from './prefix-model';
import { applyPromptTuning } from './prompt-model';

/** PEFT fields of prompt-learning configs that mmft does not use (accepted and dropped on load). */
const DROPPED = ['tokenizer_name_or_path', 'tokenizer_kwargs', 'prompt_tuning_init_text', 'modules_to_save', 'peft_version'];

function fromJson<T>(schema: z.ZodType<T, unknown>, json: Record<string, unknown>, peftType: string, method: string, file: string): T {
  const fields = parseAdapterConfigBase(json, peftType, method, file);
  for (const key of DROPPED) delete fields[key];
  return parseConfig(schema, fields, file);
}

/**
 * `peft: { method: prefix-tuning, num_virtual_tokens: 10, prefix_projection: true }`.
 *
 * @example
 * const applied = prefixTuningMethod.apply(model.root, prefixTuningMethod.configSchema.parse({ target_modules: 'text_model\\..*self_attn' }), 'default');
 */
export const prefixTuningMethod: PeftMethodProvider<PrefixTuningConfig> = {
  kind: 'peft',
  id: 'prefix-tuning',
  peftType: 'PREFIX_TUNING',
  description: 'Prefix tuning: trainable key/value prefixes in every targeted attention layer, optional MLP reparameterisation',
  configSchema: prefixTuningSchema,
  apply: (model, config, name) => applyPrefixTuning(model, parseConfig(prefixTuningMethod, config, 'peft (prefix-tuning)'), name),
  toAdapterConfig(config, base) {
    const { seed: _s, task_type, target_modules, encoder_hidden_size, ...fields } = config;
    // PEFT's PrefixTuningConfig has no target_modules: written only when not the default.
    const targets = JSON.stringify(target_modules) === JSON.stringify(['self_attn']) ? {} : { target_modules };
    return {
      ...baseAdapterConfig('PREFIX_TUNING', { task_type }, base),
      ...fields,
      encoder_hidden_size: encoder_hidden_size ?? config.token_dim ?? null,
      ...targets,
    };
  },
  fromAdapterConfig(json, file) {
    const copy = { ...json };
    if (copy.encoder_hidden_size === null) delete copy.encoder_hidden_size;
    return fromJson(prefixTuningSchema, copy, 'PREFIX_TUNING', 'prefix-tuning', file);
  },
};

/**
 * `peft: { method: prompt-tuning, num_virtual_tokens: 8 }` (needs a PromptInjectionPoint in the model).
 *
 * @example
 * const applied = promptTuningMethod.apply(model.root, promptTuningMethod.configSchema.parse({ num_virtual_tokens: 8 }), 'default');
 */
export const promptTuningMethod: PeftMethodProvider<PromptTuningConfig> = {
  kind: 'peft',
  id: 'prompt-tuning',
  peftType: 'PROMPT_TUNING',
  description:
    'Prompt tuning: trainable virtual tokens prepended to the text embeddings (mask, positions and pooling handled by the architecture)',
  configSchema: promptTuningSchema,
  apply: (model, config, name) => applyPromptTuning(model, parseConfig(promptTuningMethod, config, 'peft (prompt-tuning)'), name),
  toAdapterConfig(config, base) {
    const { seed: _s, task_type, target_modules, ...fields } = config;
    return {
      ...baseAdapterConfig('PROMPT_TUNING', { task_type }, base),
      ...fields,
      ...(target_modules === undefined ? {} : { target_modules }),
    };
  },
  fromAdapterConfig: (json, file) => fromJson(promptTuningSchema, json, 'PROMPT_TUNING', 'prompt-tuning', file),
};
