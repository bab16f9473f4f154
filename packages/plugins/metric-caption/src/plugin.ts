// The `caption` metric provider: config schema, score directions and the factory.
import { parseConfig, type MetricProvider, type TextInput } from '@mmft/core';
import { CaptionMetric } from './caption-metric';
import { captionConfigSchema, type CaptionConfig } from './config';

/**
 * Provider of metric `caption` (BLEU-1..4, ROUGE-L, CIDEr-D as pycocoevalcap).
 *
 * @example
 * const metric = captionMetric.create(captionMetric.configSchema.parse({}));
 */
export const captionMetric: MetricProvider<CaptionConfig, TextInput> = {
  kind: 'metric',
  id: 'caption',
  consumes: 'text',
  description: 'COCO caption metrics equal to pycocoevalcap: BLEU-1..4, ROUGE-L, CIDEr-D (per image and corpus)',
  configSchema: captionConfigSchema,
  scores: { bleu1: 'higher', bleu2: 'higher', bleu3: 'higher', bleu4: 'higher', rougeL: 'higher', cider: 'higher' },
  create: (config) => new CaptionMetric(parseConfig(captionMetric, config)),
};
