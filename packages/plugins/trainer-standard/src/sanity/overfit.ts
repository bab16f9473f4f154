// The sanity run's data (train.overfit_batches): the first N batches of data.train, drawn once in
// the dataset's own order (no shuffle), trained on over and over. Lightning's Trainer(overfit_batches)
// does the same: it swaps the shuffled sampler for a SequentialSampler and warns
// (lightning: src/lightning/pytorch/trainer/connectors/data_connector.py, _resolve_overfit_batches).
// Each batch is collated at the same (epoch 0, positions) every time, and an objective's caption
// choice and augmentation are functions of (seed, epoch, position) (Objective.collate in
// packages/core/src/contracts/objective.ts), so every pass sees exactly the same model inputs.
import { MmftError, type Dataset, type Example, type Objective } from '@mmft/core';
import { keepsBatch, type BatchRule } from '../data/stream';
import type { MicroStep, SourceStart } from '../loop/sources';

/** The fixed batches: examples with the positions they are collated at. */
export interface FixedBatch {
  readonly positions: readonly number[];
  readonly examples: readonly Example[];
}

/**
 * The first `count` batches of `dataset` in its unshuffled order, cut as an epoch would be (a last
 * partial batch kept unless `rule` drops it). Fewer when the dataset is shorter.
 */
export async function firstBatches(dataset: Dataset, rule: BatchRule, count: number): Promise<FixedBatch[]> {
  const batches: FixedBatch[] = [];
  let current: Example[] = [];
  let position = 0;
  for await (const example of dataset.iterate({ shuffle: false })) {
    current.push(example);
    position += 1;
    if (current.length === rule.batchSize) {
      batches.push({ positions: current.map((_, i) => position - current.length + i), examples: current });
      current = [];
      if (batches.length === count) return batches;
    }
  }
  if (current.length > 0 && keepsBatch(current.length, rule)) {
    batches.push({ positions: current.map((_, i) => position - current.length + i), examples: current });
  }
  if (batches.length === 0) {
    throw new MmftError('E_DATA', `train.overfit_batches: data.train has ${position} example(s), not one batch of ${rule.batchSize}`, {
      hint: 'add examples to data.train or lower train.batch_size',
    });
  }
  return batches;
}

/**
 * Micro-batches cycling over the fixed batches forever. A pass over them is an "epoch" and the
 * position counts examples inside it, so a checkpoint's (epoch, position) resumes mid-pass. An
 * objective that draws its own rows (cached features) gives its first `count` batches of epoch 0,
 * drawn afresh each pass from the same start (the same rows, as its draw is seeded).
 *
 * @example
 * const source = overfitMicroSteps(objective, dataset, start, 2); // batch 0, 1, 0, 1, ...
 */
export async function* overfitMicroSteps(
  objective: Objective,
  dataset: Dataset,
  start: SourceStart,
  count: number,
): AsyncGenerator<MicroStep> {
  let { epoch, position } = start;
  if (objective.batches) {
    for (;;) {
      let drawn = 0;
      for await (const b of objective.batches({ ...start, epoch: 0, position: 0 })) {
        // Collated when drawn: a batch not trained on is freed here.
        if (drawn === count || b.nextPosition <= position) b.batch.dispose();
        if (drawn === count) break;
        drawn += 1;
        if (b.nextPosition <= position) continue;
        yield { batch: b.batch, size: b.size, epoch, nextPosition: b.nextPosition };
      }
      epoch += 1;
      position = 0;
    }
  }
  const batches = await firstBatches(dataset, start, count);
  for (;;) {
    for (const fixed of batches) {
      const next = fixed.positions[fixed.positions.length - 1]! + 1;
      if (next <= position) continue;
      const batch = await objective.collate(fixed.examples, { epoch: 0, positions: fixed.positions });
      yield { batch, size: fixed.examples.length, epoch, nextPosition: next };
    }
    epoch += 1;
    position = 0;
  }
}

/** Micro-batches per pass: `count`, or fewer when data.train has fewer batches. */
export function overfitBatchesPerEpoch(batchesInData: number, count: number): number {
  return Math.min(batchesInData, count);
}
