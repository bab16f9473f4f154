// Recipe section of the `vqa` metric. The defaults reproduce the official vqaEval.py
// (variants.ts), which rounds every accuracy it reports to 2 decimals (its `n=2`).
import { z } from 'zod';
import { VQA_VARIANT_NAMES } from './variants';

/**
 * Config of the VQA accuracy metric.
 *
 * @example
 * vqaConfigSchema.parse({ decimals: null }); // unrounded accuracies (e.g. for checkpoint selection)
 * vqaConfigSchema.parse({ variant: 'lavis' }); // the rules LAVIS scores its local VQA evaluation with
 */
export const vqaConfigSchema = z
  .object({
    variant: z
      .enum(VQA_VARIANT_NAMES)
      .default('official')
      .describe(
        'official: GT-Vision-Lab/VQA vqaEval.py as of a013f00 (Python 2.7), which normalises the prediction and the ' +
          'human answers only when the humans disagree; lavis: the older rules LAVIS copies (Python 3), which always ' +
          'normalise the prediction and only strip punctuation from disagreeing human answers. See docs/metrics.md.',
      ),
    decimals: z
      .number()
      .int()
      .min(0)
      .max(15)
      .nullable()
      .default(2)
      .describe(
        "Round reported percentages like vqaEval.py (round(x, n), n = 2, with the variant's Python's ties); null keeps full precision.",
      ),
  })
  .strict()
  .describe("VQA accuracy: GT-Vision-Lab/VQA vqaEval.py by default, LAVIS's copy with variant: lavis.");

export type VqaConfig = z.output<typeof vqaConfigSchema>;
/** What a recipe (or a direct caller) may write: every field optional. */
export type VqaConfigInput = z.input<typeof vqaConfigSchema>;
