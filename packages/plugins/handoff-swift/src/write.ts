import { MmftError, type HandoffData, type HandoffLaunch, type HandoffPlan, type HandoffResult } from '@mmft/core';
import type { SwiftConfig } from './config';

export async function writeSwiftBundle(
  _plan: HandoffPlan,
  _data: HandoffData,
  _launch: HandoffLaunch,
  _bundleDir: string,
  _config: SwiftConfig,
): Promise<HandoffResult> {
  throw new MmftError('E_UNSUPPORTED', 'the ms-swift handoff target is being written');
}
