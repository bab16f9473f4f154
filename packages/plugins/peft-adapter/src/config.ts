// The `peft: { method: adapter }` section: bottleneck adapters of Houlsby et al. 2019 (after the
// attention block and after the MLP) or Pfeiffer et al. 2021 (after the MLP only), with the
// field names of adapter-transformers' BnConfig (reduction_factor, non_linearity).
import { modulesToSaveSchema, taskTypeSchema } from '@mmft/core';
import { z } from 'zod';

export const adapterConfigSchema = z.strictObject({
  variant: z
    .enum(['houlsby', 'pfeiffer'])
    .default('pfeiffer')
    .describe('houlsby: adapters after attention and after the MLP; pfeiffer: after the MLP only'),
  reduction_factor: z.number().positive().default(16).describe('bottleneck width = hidden size / reduction_factor (rounded, at least 1)'),
  non_linearity: z
    .enum(['relu', 'gelu', 'silu', 'swish', 'tanh'])
    .default('relu')
    .describe('activation between the down- and up-projection'),
  attention_modules: z
    .union([z.array(z.string().min(1)).min(1), z.string().min(1)])
    .default(['self_attn'])
    .describe('attention blocks followed by an adapter under houlsby (name suffixes or one full-match regex)'),
  mlp_modules: z
    .union([z.array(z.string().min(1)).min(1), z.string().min(1)])
    .default(['mlp'])
    .describe('MLP blocks (or their output Linear, e.g. fc2) followed by an adapter (name suffixes or one full-match regex)'),
  hidden_size: z
    .number()
    .int()
    .positive()
    .optional()
    .describe('output width of the wrapped blocks; default: read from the block (its last Linear)'),
  modules_to_save: modulesToSaveSchema,
  task_type: taskTypeSchema,
  seed: z.number().int().optional().describe('seed of the down-projection initialisation (mmft only)'),
});

/** A parsed adapter section. */
export type BottleneckConfig = z.output<typeof adapterConfigSchema>;

/** peft_type written to adapter_config.json. Python PEFT has no bottleneck-adapter type. */
export const BOTTLENECK_PEFT_TYPE = 'BOTTLENECK_ADAPTER';
