// The `model:` section every architecture takes (docs/training.md): a checkpoint folder, or config.json
// fields plus a tokenizer folder for fresh weights, with an optional trained PEFT adapter. One
// schema builder so every architecture spells the shared keys, their paths and their rule alike.
import { z } from 'zod';
import { BitsAndBytes4bitConfig } from '../quant/hf-config';
import { recipePath } from './paths';

/** What differs between architectures: the config schema and how to describe it. */
export interface ModelSectionOptions {
  /** e.g. 'LlamaConfig fields (hidden_size, num_hidden_layers, ...) for fresh weights'. */
  readonly config: string;
  /** What a checkpoint folder holds (default: config.json, model.safetensors or shards, tokenizer.json). */
  readonly checkpoint?: string;
}

/** Fields an architecture adds to its section (BLIP-2's `init:` folders), validated with the rest. */
export type ModelSectionExtra = Readonly<Record<string, z.ZodType>>;

/**
 * `{ checkpoint | config (+ tokenizer, seed), ignoreUnexpected, adapter }`, strict, with exactly one
 * of checkpoint and config. Paths are relative to the recipe file that sets them (recipePath).
 *
 * @example
 * export const llamaSectionSchema = modelSectionSchema(llamaConfigSchema, { config: 'LlamaConfig fields for fresh weights' });
 */
export function modelSectionSchema<C extends z.ZodType, E extends ModelSectionExtra = Record<never, z.ZodType>>(
  configSchema: C,
  options: ModelSectionOptions,
  extra?: E,
) {
  return z
    .strictObject({
      ...(extra as E),
      checkpoint: recipePath(z.string().min(1))
        .optional()
        .describe(`checkpoint folder in HF layout (${options.checkpoint ?? 'config.json, model.safetensors or shards, tokenizer.json'})`),
      config: configSchema.optional().describe(options.config),
      tokenizer: recipePath(z.string().min(1))
        .optional()
        .describe('folder holding tokenizer.json (+ tokenizer_config.json) used with config'),
      ignoreUnexpected: z.boolean().default(false).describe('list and skip checkpoint tensors the model does not know instead of failing'),
      seed: z.number().int().optional().describe('seed of the random initialisation when no checkpoint is loaded'),
      quantization: BitsAndBytes4bitConfig.optional().describe(
        "load the base's Linear weights in bitsandbytes 4-bit (QLoRA: NF4, double quantisation), as from_pretrained(quantization_config=BitsAndBytesConfig(...)); needs a peft: section to train",
      ),
      adapter: recipePath(z.string().min(1))
        .optional()
        .describe(
          'trained PEFT adapter folder (adapter_config.json + adapter_model.safetensors) loaded on the model, as PeftModel.from_pretrained',
        ),
    })
    .refine((s) => ((s as { checkpoint?: unknown }).checkpoint === undefined) !== ((s as { config?: unknown }).config === undefined), {
      message: 'give exactly one of checkpoint (a folder) or config (fresh weights)',
    });
}
