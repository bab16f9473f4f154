// The recipe section of dataset "mix": every field described, so `mmft schema` can complete it.
// Strategy names and meaning follow LLaMA-Factory's `mix_strategy` / `interleave_probs`
// (hiyouga/LLaMA-Factory src/llamafactory/data/data_utils.py `merge_dataset`).
import { z } from 'zod';

export const MIX_STRATEGIES = ['concat', 'interleave_under', 'interleave_over'] as const;
export type MixStrategy = (typeof MIX_STRATEGIES)[number];

/** How far the probabilities may sum from 1 (numpy's `Generator.choice` refuses a larger gap too). */
export const PROBABILITY_TOLERANCE = 1e-6;

const sourceSchema = z
  .looseObject({
    type: z.string().min(1).describe('id of the dataset provider of this source, e.g. shapes or jsonl (`mmft plugins` lists them)'),
  })
  .describe("a dataset section as under data.train: `type` and that provider's own fields (checked when the mix opens)");

export const mixConfigSchema = z
  .strictObject({
    sources: z
      .array(sourceSchema)
      .min(1)
      .describe(
        'the datasets to mix, in order; each is opened through its own provider, and relative paths in it resolve from the folder of the top recipe file',
      ),
    strategy: z
      .enum(MIX_STRATEGIES)
      .default('concat')
      .describe(
        "LLaMA-Factory's mix_strategy: concat (one source after another), interleave_under (stop when the first source runs out), interleave_over (go on, repeating sources, until every source has run out once)",
      ),
    probabilities: z
      .array(z.number().min(0).max(1))
      .optional()
      .describe(
        "interleave only (LLaMA-Factory's interleave_probs): the chance of drawing from each source at each step, one per source, summing to 1; absent: take the sources in turn",
      ),
    seed: z
      .number()
      .int()
      .default(42)
      .describe('seed of the interleave draws (LLaMA-Factory passes the training seed; 42 is the Trainer default)'),
  })
  .superRefine((config, ctx) => {
    const p = config.probabilities;
    if (p === undefined) return;
    if (config.strategy === 'concat') {
      ctx.addIssue({
        code: 'custom',
        path: ['probabilities'],
        message: 'strategy concat takes no probabilities; use strategy interleave_under or interleave_over, or remove probabilities',
      });
      return;
    }
    if (p.length !== config.sources.length) {
      ctx.addIssue({
        code: 'custom',
        path: ['probabilities'],
        message: `has ${p.length} entries for ${config.sources.length} sources; give one probability per source`,
      });
      return;
    }
    const sum = p.reduce((a, b) => a + b, 0);
    if (Math.abs(sum - 1) > PROBABILITY_TOLERANCE) {
      ctx.addIssue({ code: 'custom', path: ['probabilities'], message: `must sum to 1, they sum to ${sum}` });
    }
    if (config.strategy === 'interleave_over') {
      const zero = p.findIndex((x) => x === 0);
      if (zero >= 0)
        ctx.addIssue({
          code: 'custom',
          path: ['probabilities', zero],
          message: `is 0: interleave_over stops only when every source has run out, and sources[${zero}] would never be drawn; give it a probability above 0 or use interleave_under`,
        });
    }
  });

export type MixConfig = z.output<typeof mixConfigSchema>;
