// The PEFT method provider "lora" (peft_type LORA): recipe section ↔ adapter_config.json, and
// `apply` onto any module tree. adapter_config.json carries LoraConfig's fields
// (peft/tuners/lora/config.py) so Python PEFT's LoraConfig.from_pretrained reads it.
import { baseAdapterConfig, MmftError, parseAdapterConfigBase, parseConfig, type PeftMethodProvider } from '@mmft/core';
import { loraConfigSchema, type LoraConfig } from './config';
import { applyLora } from './model';

/** LoraConfig fields PEFT writes that mmft does not implement, with the only value it accepts. */
const FIXED_FIELDS: Readonly<Record<string, unknown>> = {
  layers_to_transform: null,
  layers_pattern: null,
  rank_pattern: {},
  alpha_pattern: {},
  use_dora: false,
};

/** Fields of newer PEFT versions that only matter at initialisation or outside mmft: accepted as is. */
const IGNORED_FIELDS = [
  'megatron_config',
  'megatron_core',
  'loftq_config',
  'runtime_config',
  'eva_config',
  'corda_config',
  'qalora_group_size',
];

/** Fields of newer PEFT versions that change what the adapter computes: accepted only when unset. */
const UNSET_FIELDS = ['layer_replication', 'lora_bias', 'use_qalora', 'trainable_token_indices', 'target_parameters'];

const isUnset = (v: unknown) => v === null || v === false || (typeof v === 'object' && Object.keys(v as object).length === 0);

/**
 * `peft: { method: lora, r: 8, lora_alpha: 16, target_modules: [q_proj, v_proj] }`.
 *
 * @example
 * const applied = loraMethod.apply(model.root, loraMethod.configSchema.parse({ r: 4 }), 'default');
 */
export const loraMethod: PeftMethodProvider<LoraConfig> = {
  kind: 'peft',
  id: 'lora',
  peftType: 'LORA',
  description:
    'LoRA: low-rank updates B·A on any Linear or Conv1D chosen by name; merge/unmerge, several adapters, Hugging Face PEFT files',
  configSchema: loraConfigSchema,
  apply: (model, config, adapterName) => applyLora(model, parseConfig(loraMethod, config, 'peft (lora)'), adapterName),
  toAdapterConfig(config, baseModelNameOrPath) {
    // exclude_modules only when set: PEFT versions before it refuse the unknown field.
    const { seed: _seed, task_type, exclude_modules, ...fields } = config;
    return {
      ...baseAdapterConfig('LORA', { task_type }, baseModelNameOrPath),
      ...fields,
      ...(exclude_modules === null ? {} : { exclude_modules }),
      ...FIXED_FIELDS,
    };
  },
  fromAdapterConfig(json, file) {
    const fields = parseAdapterConfigBase(json, 'LORA', 'lora', file);
    for (const [key, only] of Object.entries(FIXED_FIELDS)) {
      if (key in fields && fields[key] !== null && JSON.stringify(fields[key]) !== JSON.stringify(only)) {
        throw new MmftError(
          'E_UNSUPPORTED',
          `${file}: ${key} = ${JSON.stringify(fields[key])} is not supported by mmft's LoRA (only ${JSON.stringify(only)})`,
        );
      }
      delete fields[key];
    }
    for (const key of UNSET_FIELDS) {
      if (key in fields && !isUnset(fields[key]))
        throw new MmftError('E_UNSUPPORTED', `${file}: ${key} = ${JSON.stringify(fields[key])} is not supported by mmft's LoRA`);
      delete fields[key];
    }
    for (const key of IGNORED_FIELDS) delete fields[key];
    // fan_in_fan_out is a real field now (Conv1D targets); null from a hand-written file means PEFT's default.
    if (fields.fan_in_fan_out === null) delete fields.fan_in_fan_out;
    return parseConfig(loraConfigSchema, fields, file);
  },
};
