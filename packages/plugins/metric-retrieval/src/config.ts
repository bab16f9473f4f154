// Recipe section of the `retrieval` metric: the K of Recall@K.
import { z } from 'zod';

/**
 * Config of the retrieval metric.
 *
 * @example
 * retrievalConfigSchema.parse({ ks: [1, 5, 10] });
 */
export const retrievalConfigSchema = z
  .object({
    ks: z
      .array(z.number().int().positive())
      .min(1)
      .default([1, 5, 10])
      .describe('K values of Recall@K, reported as "R@K" in percent (VSE++ / CLIP papers use 1, 5, 10).'),
  })
  .strict()
  .describe('Image-text retrieval: Recall@K both directions, mean reciprocal rank, median rank, mAP.');

export type RetrievalConfig = z.infer<typeof retrievalConfigSchema>;
