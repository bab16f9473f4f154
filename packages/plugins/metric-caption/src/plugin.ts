// The `caption` metric provider: config schema, score directions and the factory.
import type { MetricProvider } from '@mmft/core';
import { CaptionMetric, type CaptionUpdate } from './caption-metric';
import { captionConfigSchema, type CaptionConfig } from './config';

/**
 * Provider of metric `caption` (BLEU-1..4, ROUGE-L, CIDEr-D as pycocoevalcap).
 *
 * @example
 * const metric = captionMetric.create(captionMetric.configSchema.parse({}));
 */
export const captionMetric: MetricProvider<CaptionConfig, CaptionUpdate> = {
  kind: 'metric',
  id: 'caption',
  description: 'COCO caption metrics equal to pycocoevalcap: BLEU-1..4, ROUGE-L, CIDEr-D (per image and corpus)',
  configSchema: captionConfigSchema as unknown as MetricProvider<CaptionConfig, CaptionUpdate>['configSchema'],
  scores: { bleu1: 'higher', bleu2: 'higher', bleu3: 'higher', bleu4: 'higher', rougeL: 'higher', cider: 'higher' },
  create: (config) => new CaptionMetric(captionConfigSchema.parse(config ?? {})),
};
