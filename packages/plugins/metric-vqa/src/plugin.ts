// The `vqa` metric provider: config schema, score direction and the factory.
import type { MetricProvider } from '@mmft/core';
import { vqaConfigSchema, type VqaConfig } from './config';
import { VqaMetric, type VqaUpdate } from './vqa-metric';

/**
 * Provider of metric `vqa` (accuracy in percent, as vqaEval.py; `variant: lavis` for LAVIS's copy).
 *
 * @example
 * const metric = vqaMetric.create(vqaMetric.configSchema.parse({}));
 */
export const vqaMetric: MetricProvider<VqaConfig, VqaUpdate> = {
  kind: 'metric',
  id: 'vqa',
  description: "VQA accuracy equal to the official vqaEval.py (variant: official, the default) or LAVIS's copy (variant: lavis): min(#humans/3, 1) over leave-one-out subsets",
  configSchema: vqaConfigSchema as unknown as MetricProvider<VqaConfig, VqaUpdate>['configSchema'],
  scores: { accuracy: 'higher' },
  create: (config) => new VqaMetric(config ?? {}),
};
