// What a resumed run checks before it loads anything: a checkpoint's data position counts examples,
// so under another batch size it no longer starts the batch the interrupted run would have taken
// next (HF Trainer keeps train_batch_size in trainer_state.json for the same reason).
import { MmftError, type RunContext } from '@mmft/core';
import type { TrainConfig } from '../config';
import type { TrainerState } from '../checkpoint/trainer-state';

/**
 * Refuses a resume under another train.batch_size unless the run is forced (`--force`), then warns.
 *
 * @example
 * if (resumed) checkResumedBatchSize(resumed, config, context);
 */
export function checkResumedBatchSize(resumed: TrainerState, config: TrainConfig, context: RunContext): void {
  if (resumed.batchSize === undefined || resumed.batchSize === config.batch_size) return;
  const what = `${context.resumeFrom} was written with train.batch_size ${resumed.batchSize}, this run has batch_size ${config.batch_size}`;
  if (!context.force) {
    throw new MmftError(
      'E_CHECKPOINT',
      `${what}: its data position (epoch ${resumed.epoch}, example ${resumed.position}) would no longer fall on the same batches`,
      {
        hint: `resume with --set train.batch_size=${resumed.batchSize}, or pass --force to resume with the new size anyway`,
      },
    );
  }
  context.reporter.warn(`${what}; going on (--force): batches from here on differ from the uninterrupted run`);
}

/**
 * The state a fresh run starts from.
 *
 * @example
 * const state = resumed ?? freshTrainerState({ total: 100, batchSize: 8, seed: 0, policy });
 */
export function freshTrainerState(o: {
  total: number;
  batchSize: number;
  seed: number;
  policy: { readonly key: string; readonly greater: boolean };
}): TrainerState {
  return {
    format: 'mmft-trainer-state',
    version: 1,
    globalStep: 0,
    totalSteps: o.total,
    epoch: 0,
    position: 0,
    samplesSeen: 0,
    batchSize: o.batchSize,
    rng: { kind: 'derived', seed: o.seed },
    metricForBest: o.policy.key,
    greaterIsBetter: o.policy.greater,
    evalsWithoutImprovement: 0,
    logHistory: [],
  };
}
