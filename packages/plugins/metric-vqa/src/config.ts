// Recipe section of the `vqa` metric. The default reproduces vqaEval.py, which rounds every
// accuracy it reports to 2 decimals (its `n=2`).
import { z } from 'zod';

/**
 * Config of the VQA accuracy metric.
 *
 * @example
 * vqaConfigSchema.parse({ decimals: null }); // unrounded accuracies (e.g. for checkpoint selection)
 */
export const vqaConfigSchema = z
  .object({
    decimals: z
      .number()
      .int()
      .min(0)
      .max(15)
      .nullable()
      .default(2)
      .describe('Round reported percentages like vqaEval.py (round(x, n), n = 2); null keeps full precision.'),
  })
  .strict()
  .describe('VQA accuracy as the official evaluation (GT-Vision-Lab/VQA vqaEval.py).');

export type VqaConfig = z.infer<typeof vqaConfigSchema>;
