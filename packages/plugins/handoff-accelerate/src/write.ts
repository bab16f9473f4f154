import { MmftError, type HandoffData, type HandoffLaunch, type HandoffPlan, type HandoffResult } from '@mmft/core';
import type { AccelerateTargetConfig } from './config';

export async function writeAccelerateBundle(
  _plan: HandoffPlan,
  _data: HandoffData,
  _launch: HandoffLaunch,
  _bundleDir: string,
  _config: AccelerateTargetConfig,
): Promise<HandoffResult> {
  throw new MmftError('E_UNSUPPORTED', 'the accelerate handoff target is being written');
}
