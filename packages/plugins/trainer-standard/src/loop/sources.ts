// Where micro-batches come from: the dataset in the loop's seeded order, collated by the
// objective, or the objective's own rows when it draws its batches (cached features). Both report
// where the next micro-batch starts, so a checkpoint's (epoch, position) resumes either exactly.
import type { Dataset, Objective, ObjectiveBatch } from '@mmft/core';
import { microBatches, type BatchRule } from '../data/stream';

/** One micro-batch ready to run; the objective's loss of `batch` runs inside tf.variableGrads. */
export interface MicroStep {
  readonly batch: ObjectiveBatch;
  readonly size: number;
  /** Epoch and position right after this micro-batch. */
  readonly epoch: number;
  readonly nextPosition: number;
}

export interface SourceStart extends BatchRule {
  readonly seed: number;
  readonly epoch: number;
  readonly position: number;
}

/** Micro-batches for `objective` from `start` on, forever. */
export async function* microSteps(objective: Objective, dataset: Dataset, start: SourceStart): AsyncGenerator<MicroStep> {
  if (objective.batches) {
    for await (const drawn of objective.batches(start)) yield drawn;
    return;
  }
  for await (const mb of microBatches(dataset, start)) {
    const batch = await objective.collate(mb.examples, mb);
    yield { batch, size: mb.examples.length, epoch: mb.epoch, nextPosition: mb.positions[mb.positions.length - 1]! + 1 };
  }
}
