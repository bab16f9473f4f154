// The `peft: { method: prefix-tuning }` and `peft: { method: prompt-tuning }` sections, with the
// field names of PrefixTuningConfig (peft/tuners/prefix_tuning/config.py) and PromptTuningConfig
// (peft/tuners/prompt_tuning/config.py). Model-derived fields (token_dim, num_layers,
// num_attention_heads) are optional here: filled in when saving, checked when loading.
import { taskTypeSchema } from '@mmft/core';
import { z } from 'zod';

const targets = (what: string, fallback: string[]) =>
  z
    .union([z.array(z.string().min(1)).min(1), z.string().min(1)])
    .default(fallback)
    .describe(`${what} (name suffixes or one full-match regex)`);

const modelFields = {
  token_dim: z.number().int().positive().optional().describe('width of the hidden states; read from the model, checked when given'),
  num_layers: z.number().int().positive().optional().describe('number of adapted layers; read from the model, checked when given'),
  num_attention_heads: z
    .number()
    .int()
    .positive()
    .optional()
    .describe('attention heads per layer; read from the model, checked when given'),
  num_transformer_submodules: z.literal(1).default(1).describe('PEFT field; 1 (decoder-only / single stack) is what mmft supports'),
  task_type: taskTypeSchema,
  seed: z.number().int().optional().describe('seed of the initialisation (mmft only)'),
};

export const prefixTuningSchema = z.strictObject({
  num_virtual_tokens: z.number().int().positive().default(10).describe('number of key/value prefix positions per layer'),
  target_modules: targets('attention modules that receive prefixes, in layer order', ['self_attn']),
  prefix_projection: z
    .boolean()
    .default(false)
    .describe('reparameterise the prefixes through a two-layer tanh MLP while training (Li & Liang 2021)'),
  encoder_hidden_size: z.number().int().positive().optional().describe('hidden width of the reparameterisation MLP (default token_dim)'),
  init_weights: z
    .literal('zero')
    .nullable()
    .default(null)
    .describe('null: random prefixes (PEFT default); "zero": the prefix table (or the MLP output layer) starts at zero'),
  ...modelFields,
});

export const promptTuningSchema = z.strictObject({
  num_virtual_tokens: z
    .number()
    .int()
    .positive()
    .default(10)
    .describe('number of trainable virtual tokens prepended to the text embeddings'),
  target_modules: z
    .union([z.array(z.string().min(1)).min(1), z.string().min(1)])
    .optional()
    .describe('modules implementing PromptInjectionPoint to feed (name suffixes or one full-match regex; default: every one)'),
  prompt_tuning_init: z
    .literal('RANDOM')
    .default('RANDOM')
    .describe('initialisation of the virtual tokens: RANDOM is N(0, 1) as torch.nn.Embedding (PEFT default)'),
  ...modelFields,
});

export type PrefixTuningConfig = z.output<typeof prefixTuningSchema>;
export type PromptTuningConfig = z.output<typeof promptTuningSchema>;
