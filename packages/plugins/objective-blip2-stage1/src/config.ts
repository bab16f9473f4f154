// The recipe section of objective "blip2-stage1" (docs/blip2-stage1.md). Defaults are LAVIS's
// stage-1 pre-training (lavis/models/blip2_models/blip2_qformer.py, Blip2Qformer: max_txt_len 32,
// label smoothing 0.1 on ITC and ITG, the three losses summed unweighted).
import { z } from 'zod';

const weight = (what: string) => z.number().nonnegative().default(1).describe(`factor of the ${what} loss in the total (LAVIS: 1)`);

export const lossWeightsSchema = z
  .strictObject({
    itc: weight('image-text contrastive'),
    itm: weight('image-text matching'),
    itg: weight('image-grounded text generation'),
  })
  .describe('factors of the three losses; LAVIS sums them unweighted (1, 1, 1). A factor of 0 skips that loss');

export const blip2Stage1ConfigSchema = z
  .strictObject({
    max_length: z
      .number()
      .int()
      .min(2)
      .default(32)
      .describe(
        "text tokens per caption after truncation, special tokens included (LAVIS max_txt_len 32); at most the model's maxTextLength",
      ),
    label_smoothing: z
      .number()
      .min(0)
      .max(1)
      .default(0.1)
      .describe('label smoothing of the contrastive and the generation cross-entropies (LAVIS 0.1; the matching loss has none)'),
    weights: lossWeightsSchema.default({ itc: 1, itm: 1, itg: 1 }),
    pre_caption: z
      .boolean()
      .default(false)
      .describe(
        'clean captions as LAVIS\'s blip_caption processor does (lower case, .!"()*#:;~ to spaces, at most 50 words); default false: captions as written',
      ),
    prompt: z.string().default('').describe("text put before every caption (LAVIS blip_caption processor's prompt; default none)"),
  })
  .describe('BLIP-2 stage 1: contrastive (ITC), matching with hard negatives (ITM) and image-grounded generation (ITG) on the Q-Former');

export type Blip2Stage1Config = z.output<typeof blip2Stage1ConfigSchema>;
