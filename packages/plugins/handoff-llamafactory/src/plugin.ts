// The `llamafactory` handoff provider: an mmft recipe as a LLaMA-Factory `llamafactory-cli train` bundle.
import type { HandoffTargetProvider } from '@mmft/core';
import { llamaFactoryConfigSchema, type LlamaFactoryConfig } from './config';
import { writeLlamaFactoryBundle } from './write';

/**
 * Handoff target `llamafactory` (LLaMA-Factory).
 *
 * @example
 * const result = await llamaFactoryTarget.write(plan, data, launch, bundleDir, llamaFactoryTarget.configSchema.parse({}));
 */
export const llamaFactoryTarget: HandoffTargetProvider<LlamaFactoryConfig> = {
  kind: 'handoff',
  id: 'llamafactory',
  engine: 'LLaMA-Factory',
  description:
    'LLaMA-Factory bundle: train.yaml, sharegpt data + dataset_info.json, DeepSpeed ZeRO / FSDP configs, multi-node torchrun env',
  configSchema: llamaFactoryConfigSchema,
  write: (plan, data, launch, bundleDir, config) => writeLlamaFactoryBundle(plan, data, launch, bundleDir, config),
};
