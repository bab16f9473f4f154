// The `accelerate` handoff provider: an mmft recipe as a transformers Trainer + peft script under accelerate.
import type { HandoffTargetProvider } from '@mmft/core';
import { accelerateConfigSchema, type AccelerateTargetConfig } from './config';
import { writeAccelerateBundle } from './write';

/**
 * Handoff target `accelerate` (Hugging Face accelerate + transformers Trainer + peft).
 *
 * @example
 * const result = await accelerateTarget.write(plan, data, launch, bundleDir, accelerateTarget.configSchema.parse({}));
 */
export const accelerateTarget: HandoffTargetProvider<AccelerateTargetConfig> = {
  kind: 'handoff',
  id: 'accelerate',
  engine: 'Hugging Face accelerate',
  description: 'accelerate bundle: a transformers Trainer + peft script, train_args.json, accelerate / DeepSpeed / FSDP configs',
  configSchema: accelerateConfigSchema,
  write: (plan, data, launch, bundleDir, config) => writeAccelerateBundle(plan, data, launch, bundleDir, config),
};
