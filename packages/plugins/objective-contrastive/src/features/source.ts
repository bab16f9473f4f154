// Micro-batches of cached features for the head: the epoch's seeded permutation of table rows and
// one caption (plus a hard negative) per row drawn as pickTexts draws them, so the feature-based
// mode resumes from (epoch, position) exactly as the model path does.
import * as tf from '@tensorflow/tfjs-core';
import type { DrawnBatch, ObjectiveBatch } from '@mmft/core';
import { deriveSeed, SeededRng } from '@mmft/image';
import { gatherRows } from '../eval/loss';
import type { FeatureTable } from './feature-cache';

/** A batch of features: image rows, then the positive texts and the hard negatives. */
export interface FeatureBatch extends ObjectiveBatch {
  readonly image: tf.Tensor2D;
  readonly text: tf.Tensor;
}

/** Whether a last batch of `count` rows is kept (the loop's rule: full, or ≥ 2 unless dropLast). */
const keeps = (count: number, batchSize: number, dropLast: boolean) => count === batchSize || (!dropLast && count >= 2);

/** The epoch's order over cached rows: a seeded permutation (the encoders are not involved). */
function permutation(count: number, seed: number, epoch: number): number[] {
  return new SeededRng(deriveSeed(seed, epoch)).shuffle(Array.from({ length: count }, (_, i) => i));
}

/** The features of `rows` at `epoch` and `positions` (what `collate` and `featureBatches` share). */
export function featureBatch(
  table: FeatureTable,
  rows: readonly number[],
  seed: number,
  epoch: number,
  positions: readonly number[],
  hardNegatives: boolean,
): FeatureBatch {
  const positives: number[] = [];
  const negatives: number[] = [];
  rows.forEach((row, i) => {
    const rng = new SeededRng(deriveSeed(seed, epoch, positions[i]!));
    positives.push(rng.int(table.textStart[row]!, table.textStart[row + 1]! - 1));
    const [from, to] = [table.negativeStart[row]!, table.negativeStart[row + 1]!];
    if (hardNegatives && to > from) negatives.push(rng.int(from, to - 1));
  });
  const image = gatherRows(table.image, rows, table.dim);
  const text = tf.tidy(() => tf.concat([gatherRows(table.text, positives, table.dim), gatherRows(table.negative, negatives, table.dim)]));
  return { inputs: {}, examples: [], count: 1, image, text, dispose: () => (image.dispose(), text.dispose()) };
}

/** Micro-batches of cached features from (epoch, position) on, forever. */
export async function* featureBatches(
  table: FeatureTable,
  start: {
    readonly seed: number;
    readonly batchSize: number;
    readonly dropLast: boolean;
    readonly epoch: number;
    readonly position: number;
  },
  hardNegatives: boolean,
): AsyncGenerator<DrawnBatch> {
  let { epoch, position } = start;
  for (;;) {
    if (!keeps(Math.min(start.batchSize, table.count - position), start.batchSize, start.dropLast)) ((epoch += 1), (position = 0));
    const order = permutation(table.count, start.seed, epoch);
    const rows = order.slice(position, position + start.batchSize);
    const positions = rows.map((_, i) => position + i);
    const batch = featureBatch(table, rows, start.seed, epoch, positions, hardNegatives);
    position += rows.length;
    yield { batch, size: rows.length, epoch, positions, nextPosition: position };
  }
}
