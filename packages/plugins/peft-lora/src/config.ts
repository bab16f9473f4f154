// The `peft: { method: lora }` section and adapter_config.json of LoRA, field for field as
// LoraConfig in peft/tuners/lora/config.py (snake_case, PEFT's defaults where PEFT has one).
import { modulesToSaveSchema, targetModulesSchema, taskTypeSchema } from '@mmft/core';
import { z } from 'zod';

export const loraConfigSchema = z.strictObject({
  r: z.number().int().positive().default(8).describe('LoRA rank: A is [r, in], B is [out, r]'),
  lora_alpha: z.number().positive().default(8).describe('scaling numerator: the update is (lora_alpha / r) · B A'),
  lora_dropout: z.number().min(0).lt(1).default(0).describe('dropout on the LoRA branch input while training'),
  target_modules: z
    .union([targetModulesSchema, z.literal('all-linear')])
    .default(['q_proj', 'v_proj'])
    .describe(
      'Linear or Conv1D modules to adapt: name suffixes, one full-match regex, or "all-linear" (every Linear and Conv1D except lm_head)',
    ),
  exclude_modules: z
    .union([z.array(z.string().min(1)).min(1), z.string().min(1)])
    .nullable()
    .default(null)
    .describe(
      'modules never adapted, as PEFT: names or name suffixes (the module itself, not its children), or one full-match regex, ' +
        'e.g. "vision_tower\\..*" to keep all-linear off a vision tower',
    ),
  fan_in_fan_out: z
    .boolean()
    .default(false)
    .describe(
      'the target stores its weight [in, out] (GPT-2 Conv1D); as in PEFT, each layer follows its own layout: Conv1D targets ' +
        'always use it and adapter_config.json records true, a Linear target ignores true with a warning',
    ),
  bias: z
    .enum(['none', 'all', 'lora_only'])
    .default('none')
    .describe('which biases train and are saved: none, all of the model, or those of adapted layers'),
  use_rslora: z.boolean().default(false).describe('rank-stabilised LoRA: scale by lora_alpha / sqrt(r) instead of lora_alpha / r'),
  init_lora_weights: z
    .union([z.boolean(), z.literal('gaussian')])
    .default(true)
    .describe(
      'true: A Kaiming-uniform, B zeros (starts as the base model); "gaussian": A ~ N(0, 1/r), B zeros; false: both random (testing only)',
    ),
  modules_to_save: modulesToSaveSchema,
  task_type: taskTypeSchema,
  seed: z.number().int().optional().describe('seed of the LoRA initialisation (mmft only; not written to adapter_config.json)'),
});

/** A parsed LoRA section. */
export type LoraConfig = z.output<typeof loraConfigSchema>;

/** The factor applied to B A: lora_alpha / r, or lora_alpha / sqrt(r) with use_rslora. */
export function loraScaling(config: Pick<LoraConfig, 'r' | 'lora_alpha' | 'use_rslora'>): number {
  return config.use_rslora ? config.lora_alpha / Math.sqrt(config.r) : config.lora_alpha / config.r;
}
