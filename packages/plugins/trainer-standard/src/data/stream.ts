// The training order: epochs of the dataset's seeded shuffle, cut into micro-batches, each
// tagged with its epoch and the positions of its examples, so a checkpoint can name exactly where
// the next step starts (IterateOptions.startAt) — the data half of bit-equal resume.
import { MmftError, type Dataset, type Example } from '@mmft/core';

/** Examples of one micro-batch and where they sit in the epoch's order. */
export interface MicroBatch {
  readonly epoch: number;
  readonly positions: readonly number[];
  readonly examples: readonly Example[];
}

/** Examples in one epoch: the dataset's size, or a count when it does not know. */
export async function datasetSize(dataset: Dataset, file: string): Promise<number> {
  if (dataset.size !== undefined) return dataset.size;
  let n = 0;
  for await (const _ of dataset.iterate({ shuffle: false })) n += 1;
  if (n === 0) throw new MmftError('E_DATA', `${file}: the training dataset is empty`);
  return n;
}

/**
 * How an epoch is cut into batches: `batchSize` each, the last one partial unless `dropLast`, and
 * never smaller than the objective's `minBatch` (Objective.minBatchSize; default 1).
 */
export interface BatchRule {
  readonly batchSize: number;
  readonly dropLast: boolean;
  readonly minBatch?: number;
}

/**
 * Whether a last batch of `count` examples is trained on. A partial batch is kept, as HF Trainer's
 * DataLoader does (dataloader_drop_last=False), unless it is smaller than the objective's minimum:
 * a contrastive batch of one has no in-batch negative, so its loss says nothing.
 */
export function keepsBatch(count: number, rule: BatchRule): boolean {
  return count === rule.batchSize || (!rule.dropLast && count >= Math.max(1, rule.minBatch ?? 1));
}

/** Micro-batches in one epoch of `size` examples. */
export function batchesPerEpoch(size: number, rule: BatchRule): number {
  const full = Math.floor(size / rule.batchSize);
  return full + (keepsBatch(size % rule.batchSize, rule) ? 1 : 0);
}

/**
 * Refuse a training set that cannot fill one batch, before any step: the epoch loop would
 * otherwise find no batch and turn over empty epochs forever.
 */
export function checkTrainSize(size: number, rule: BatchRule): void {
  const examples = `${size} example${size === 1 ? '' : 's'}`;
  const min = Math.max(1, rule.minBatch ?? 1);
  if (size < min) {
    throw new MmftError(
      'E_DATA',
      `data.train has ${examples}; the objective needs at least ${min} per batch${min === 2 ? ' (a contrastive loss: the other examples of a batch are the negatives)' : ''}`,
      {
        hint: 'add examples to data.train (check its path and filters)',
      },
    );
  }
  if (batchesPerEpoch(size, rule) === 0) {
    throw new MmftError(
      'E_DATA',
      `data.train has ${examples}, fewer than train.batch_size ${rule.batchSize}, and train.dataloader_drop_last is true: no batch is ever complete`,
      {
        hint: `set train.batch_size to ${size} or less, or train.dataloader_drop_last: false (a partial batch)`,
      },
    );
  }
}

/**
 * Micro-batches from (epoch, position) on, forever (epochs advance). The incomplete last batch of
 * an epoch is yielded when `keepsBatch` says so (HF Trainer's drop_last=False), else dropped.
 *
 * @example
 * for await (const mb of microBatches(dataset, { seed: 42, batchSize: 8, dropLast: false, epoch: 0, position: 0 })) { ... }
 */
export async function* microBatches(
  dataset: Dataset,
  start: BatchRule & { seed: number; epoch: number; position: number },
): AsyncGenerator<MicroBatch> {
  let { epoch, position } = start;
  for (;;) {
    const fromStart = position === 0;
    let yielded = false;
    let examples: Example[] = [];
    let positions: number[] = [];
    for await (const example of dataset.iterate({ seed: start.seed, shuffle: true, epoch, startAt: position })) {
      examples.push(example);
      positions.push(position);
      position += 1;
      if (examples.length === start.batchSize) {
        yield { epoch, positions, examples };
        yielded = true;
        examples = [];
        positions = [];
      }
    }
    if (examples.length > 0 && keepsBatch(examples.length, start)) {
      yield { epoch, positions, examples };
      yielded = true;
    }
    // A dataset that yields fewer examples than its declared size would spin here otherwise.
    if (fromStart && !yielded) {
      throw new MmftError(
        'E_DATA',
        `data.train yielded ${examples.length} example(s) in epoch ${epoch}, not one batch of ${start.batchSize}`,
        {
          hint: "check that the dataset's size matches what it yields",
        },
      );
    }
    epoch += 1;
    position = 0;
  }
}
