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
 * Micro-batches from (epoch, position) on, forever (epochs advance); incomplete batches at the end
 * of an epoch are dropped, as open_clip's training loader does (drop_last=True).
 *
 * @example
 * for await (const mb of microBatches(dataset, { seed: 42, batchSize: 8, epoch: 0, position: 0 })) { ... }
 */
export async function* microBatches(dataset: Dataset, start: { seed: number; batchSize: number; epoch: number; position: number }): AsyncGenerator<MicroBatch> {
  let { epoch, position } = start;
  for (;;) {
    let examples: Example[] = [];
    let positions: number[] = [];
    for await (const example of dataset.iterate({ seed: start.seed, shuffle: true, epoch, startAt: position })) {
      examples.push(example);
      positions.push(position);
      position += 1;
      if (examples.length === start.batchSize) {
        yield { epoch, positions, examples };
        examples = [];
        positions = [];
      }
    }
    epoch += 1;
    position = 0;
  }
}
