// The `retrieval` metric provider: config schema, score directions and the factory.
import { parseConfig, type MetricProvider, type RetrievalInput } from '@mmft/core';
import { retrievalConfigSchema, type RetrievalConfig } from './config';
import { RetrievalMetric } from './retrieval-metric';

const directions = (prefix: string): Record<string, 'higher' | 'lower'> => ({
  [`${prefix}_R@1`]: 'higher',
  [`${prefix}_R@5`]: 'higher',
  [`${prefix}_R@10`]: 'higher',
  [`${prefix}_mrr`]: 'higher',
  [`${prefix}_median_rank`]: 'lower',
  [`${prefix}_mAP`]: 'higher',
});

/**
 * Provider of metric `retrieval` (scores `i2t_R@1`, …, `t2i_mAP`).
 *
 * @example
 * const metric = retrievalMetric.create(retrievalMetric.configSchema.parse({}));
 */
export const retrievalMetric: MetricProvider<RetrievalConfig, RetrievalInput> = {
  kind: 'metric',
  id: 'retrieval',
  consumes: 'retrieval',
  description: 'Image-text retrieval: Recall@1/5/10 both directions, MRR, median rank, mAP (cosine or a similarity matrix)',
  configSchema: retrievalConfigSchema,
  scores: { ...directions('i2t'), ...directions('t2i') },
  create: (config) => new RetrievalMetric(parseConfig(retrievalMetric, config)),
};
