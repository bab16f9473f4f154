// The `accelerate` handoff target's options (docs/conventions.md §7); mmft handoff passes none by default.
import { z } from 'zod';

export const accelerateConfigSchema = z
  .strictObject({
    deepspeed_offload: z.boolean().default(false).describe('ZeRO-Offload optimizer state (and ZeRO-3 parameters) to CPU memory'),
  })
  .describe('Hugging Face accelerate handoff target');

export type AccelerateTargetConfig = z.output<typeof accelerateConfigSchema>;
export type AccelerateTargetConfigInput = z.input<typeof accelerateConfigSchema>;
