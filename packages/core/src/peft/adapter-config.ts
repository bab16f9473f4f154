// The adapter_config.json fields every PEFT method shares (PeftConfigMixin / PeftConfig in
// peft/config.py: peft_type, task_type, base_model_name_or_path, revision, inference_mode), and
// the check that a config read from disk belongs to the method asked to load it.
import { z } from 'zod';
import { MmftError } from '../errors';

/** Shared keys of a recipe's peft: section and of adapter_config.json. */
export interface AdapterConfigBase {
  /** PEFT's task_type ("FEATURE_EXTRACTION", "CAUSAL_LM"...) or null. */
  readonly task_type?: string | null;
}

/** zod schema of `target_modules`: suffix list or one full-match regex string. */
export const targetModulesSchema = z
  .union([z.array(z.string().min(1)).min(1), z.string().min(1)])
  .describe('modules to adapt: name suffixes (["q_proj", "v_proj"]) or one regex matched on the full dotted module name');

/** zod schema of `modules_to_save`. */
export const modulesToSaveSchema = z
  .array(z.string().min(1))
  .nullable()
  .default(null)
  .describe('modules trained fully and saved with the adapter (name suffixes), e.g. ["text_projection"]');

/** zod schema of `task_type`. */
export const taskTypeSchema = z
  .string()
  .nullable()
  .default(null)
  .describe('PEFT task_type written to adapter_config.json (null, "FEATURE_EXTRACTION", "CAUSAL_LM", ...)');

/**
 * The fields PEFT's PeftConfig writes for every method; method fields are added by the caller.
 *
 * @example
 * ({ ...baseAdapterConfig('LORA', config, base), r: config.r, lora_alpha: config.lora_alpha });
 */
export function baseAdapterConfig(
  peftType: string,
  config: AdapterConfigBase,
  baseModelNameOrPath: string | null,
): Record<string, unknown> {
  return {
    peft_type: peftType,
    task_type: config.task_type ?? null,
    auto_mapping: null,
    base_model_name_or_path: baseModelNameOrPath,
    revision: null,
    inference_mode: true,
  };
}

/**
 * Checks `json.peft_type` is `peftType` and returns the fields minus PeftConfig's bookkeeping
 * (peft_type, auto_mapping, base_model_name_or_path, revision, inference_mode), so the method
 * can validate the rest with its own schema. A config of another method is an E_CONFIG error.
 *
 * @example
 * const fields = parseAdapterConfigBase(json, 'LORA', 'lora', 'out/adapter/adapter_config.json');
 */
export function parseAdapterConfigBase(
  json: Record<string, unknown>,
  peftType: string,
  method: string,
  file: string,
): Record<string, unknown> {
  if (json.peft_type !== peftType) {
    throw new MmftError(
      'E_CONFIG',
      `${file}: peft_type is ${JSON.stringify(json.peft_type)}, but the ${method} method reads "${peftType}" configs`,
      {
        hint: 'load the folder with the plugin of its peft_type (mmft merge / loadAdapter pick it automatically)',
      },
    );
  }
  const { peft_type: _t, auto_mapping: _a, base_model_name_or_path: _b, revision: _r, inference_mode: _i, ...rest } = json;
  return rest;
}
