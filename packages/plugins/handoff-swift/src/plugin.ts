// The `swift` handoff provider: an mmft recipe as an ms-swift `swift sft` bundle.
import type { HandoffTargetProvider } from '@mmft/core';
import { swiftConfigSchema, type SwiftConfig } from './config';
import { writeSwiftBundle } from './write';

/**
 * Handoff target `swift` (ms-swift).
 *
 * @example
 * const result = await swiftTarget.write(plan, data, launch, bundleDir, swiftTarget.configSchema.parse({}));
 */
export const swiftTarget: HandoffTargetProvider<SwiftConfig> = {
  kind: 'handoff',
  id: 'swift',
  engine: 'ms-swift',
  description: 'ms-swift bundle: swift sft arguments, messages + images JSONL, DeepSpeed, multi-node torchrun env',
  configSchema: swiftConfigSchema,
  write: (plan, data, launch, bundleDir, config) => writeSwiftBundle(plan, data, launch, bundleDir, config),
};
