// trainer_state.json: everything besides tensors that a resumed run needs to continue exactly
// where the checkpoint was written, in the spirit of HF Trainer's TrainerState
// (transformers/trainer_callback.py): step, epoch, data position, RNG, best metric, log history.
import * as fs from 'node:fs/promises';
import * as path from 'node:path';
import { MmftError } from '@mmft/core';

/** One entry of the log history: a training step or an evaluation. */
export type LogEntry = Readonly<Record<string, number | string>>;

export interface TrainerState {
  readonly format: 'mmft-trainer-state';
  readonly version: 1;
  /** Optimizer steps done. */
  readonly globalStep: number;
  readonly totalSteps: number;
  /** Epoch and position (examples consumed in that epoch) where the next step starts. */
  readonly epoch: number;
  readonly position: number;
  readonly samplesSeen: number;
  /**
   * train.batch_size of the run that wrote it (HF TrainerState.train_batch_size): `position`
   * only falls on the same batches under the same size. Absent in older checkpoints.
   */
  readonly batchSize?: number;
  /** All randomness is derived from (seed, epoch, position, step): the seed is the RNG state. */
  readonly rng: { readonly kind: 'derived'; readonly seed: number };
  readonly bestMetric?: number;
  readonly bestStep?: number;
  readonly metricForBest: string;
  readonly greaterIsBetter: boolean;
  readonly evalsWithoutImprovement: number;
  readonly logHistory: readonly LogEntry[];
}

export const TRAINER_STATE_FILE = 'trainer_state.json';

/** Read and check a checkpoint's trainer_state.json. */
export async function readTrainerState(dir: string): Promise<TrainerState> {
  const file = path.join(dir, TRAINER_STATE_FILE);
  let value: Partial<TrainerState>;
  try {
    value = JSON.parse(await fs.readFile(file, 'utf8')) as Partial<TrainerState>;
  } catch (cause) {
    throw new MmftError('E_CHECKPOINT', `cannot read ${file}: ${(cause as Error).message}`, {
      cause,
      hint: '--resume takes a checkpoint folder written by the standard trainer (e.g. <output>/checkpoint-last)',
    });
  }
  if (value.format !== 'mmft-trainer-state' || value.version !== 1 || typeof value.globalStep !== 'number') {
    throw new MmftError(
      'E_CHECKPOINT',
      `${file} is not a version-1 mmft trainer state (format ${JSON.stringify(value.format)}, version ${JSON.stringify(value.version)})`,
    );
  }
  return value as TrainerState;
}
