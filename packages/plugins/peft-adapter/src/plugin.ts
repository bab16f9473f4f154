// The PEFT method provider "adapter" (peft_type BOTTLENECK_ADAPTER). Python PEFT has no
// bottleneck-adapter type, so these folders load in mmft only (docs/peft.md says so); the file
// layout is still PEFT's (adapter_config.json + adapter_model.safetensors, base_model.model.*).
import { baseAdapterConfig, parseAdapterConfigBase, parseConfig, type PeftMethodProvider } from '@mmft/core';
import { adapterConfigSchema, BOTTLENECK_PEFT_TYPE, type BottleneckConfig } from './config';
import { applyBottleneck } from './model';

/**
 * `peft: { method: adapter, variant: houlsby, reduction_factor: 16 }`.
 *
 * @example
 * const applied = bottleneckMethod.apply(model.root, bottleneckMethod.configSchema.parse({}), 'default');
 */
export const bottleneckMethod: PeftMethodProvider<BottleneckConfig> = {
  kind: 'peft',
  id: 'adapter',
  peftType: BOTTLENECK_PEFT_TYPE,
  description:
    'Bottleneck adapters (Houlsby: after attention and MLP; Pfeiffer: after MLP) on any transformer, zero-initialised up-projection',
  configSchema: adapterConfigSchema,
  apply: (model, config, adapterName) => applyBottleneck(model, parseConfig(bottleneckMethod, config, 'peft (adapter)'), adapterName),
  toAdapterConfig(config, baseModelNameOrPath) {
    const { seed: _seed, task_type, ...fields } = config;
    return { ...baseAdapterConfig(BOTTLENECK_PEFT_TYPE, { task_type }, baseModelNameOrPath), ...fields };
  },
  fromAdapterConfig: (json, file) =>
    parseConfig(adapterConfigSchema, parseAdapterConfigBase(json, BOTTLENECK_PEFT_TYPE, 'adapter', file), file),
};
