// The `vqa` metric provider: config schema, score direction and the factory.
import { parseConfig, type MetricProvider, type VqaInput } from '@mmft/core';
import { vqaConfigSchema, type VqaConfig } from './config';
import { VqaMetric } from './vqa-metric';

/**
 * Provider of metric `vqa` (accuracy in percent, as vqaEval.py; `variant: lavis` for LAVIS's copy).
 *
 * @example
 * const metric = vqaMetric.create(vqaMetric.configSchema.parse({}));
 */
export const vqaMetric: MetricProvider<VqaConfig, VqaInput> = {
  kind: 'metric',
  id: 'vqa',
  consumes: 'vqa',
  description:
    "VQA accuracy equal to the official vqaEval.py (variant: official, the default) or LAVIS's copy (variant: lavis): min(#humans/3, 1) over leave-one-out subsets",
  configSchema: vqaConfigSchema,
  scores: { accuracy: 'higher' },
  create: (config) => new VqaMetric(parseConfig(vqaMetric, config)),
};
