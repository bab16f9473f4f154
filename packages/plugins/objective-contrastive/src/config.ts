// The recipe's `objective:` section for `type: contrastive` (the default when the section is
// absent). The same fields are still accepted under `train:` (strategy feature-based, head,
// hard_negatives, max_text_length), where recipes written before objectives put them;
// docs/training.md "The objective".
import { z } from 'zod';

const positiveInt = () => z.number().int().positive();

export const headSchema = z
  .strictObject({
    type: z
      .enum(['linear', 'mlp'])
      .default('linear')
      .describe('linear: one projection per modality (identity init); mlp: residual two-layer adapter (zero-init output)'),
    hidden: positiveInt().optional().describe('hidden width of the mlp head (default: the feature width)'),
  })
  .describe('the head trained on cached features (feature_based)');

export const contrastiveConfigSchema = z
  .strictObject({
    feature_based: z
      .boolean()
      .optional()
      .describe(
        'frozen encoders run once to cache features (<output>/features), a head trains on them (default: whether train.strategy is feature-based)',
      ),
    head: headSchema.optional().describe('head of the feature-based mode (default: train.head, else linear)'),
    hard_negatives: z
      .boolean()
      .optional()
      .describe("append retrieval examples' negativeTexts as extra text columns (default: train.hard_negatives, else true)"),
    max_text_length: positiveInt()
      .optional()
      .describe('tokens per text after truncation (default: train.max_text_length, else 77: CLIP context length)'),
  })
  .describe('the contrastive objective: image-text pairs, in-batch negatives, a contrastive loss: plugin');

export type ContrastiveConfig = z.output<typeof contrastiveConfigSchema>;

/** The settings a run uses: the objective's own, else the `train:` field of the same name, else the default. */
export interface ResolvedContrastive {
  readonly featureBased: boolean;
  readonly head: HeadConfig;
  readonly hardNegatives: boolean;
  readonly maxTextLength: number;
}

/**
 * @example
 * resolveContrastive({}, { strategy: 'feature-based' }); // { featureBased: true, head: { type: 'linear' }, hardNegatives: true, maxTextLength: 77 }
 */
export function resolveContrastive(config: ContrastiveConfig, train: Readonly<Record<string, unknown>> | undefined): ResolvedContrastive {
  const legacy = train ?? {};
  return {
    featureBased: config.feature_based ?? legacy.strategy === 'feature-based',
    head: config.head ?? headSchema.parse(legacy.head ?? {}),
    hardNegatives: config.hard_negatives ?? (typeof legacy.hard_negatives === 'boolean' ? legacy.hard_negatives : true),
    maxTextLength: config.max_text_length ?? (typeof legacy.max_text_length === 'number' ? legacy.max_text_length : 77),
  };
}
export type HeadConfig = z.output<typeof headSchema>;
