// Where micro-batches come from: the dataset through the model (full / lock-image) or cached
// features through the head (feature-based). Both report where the next micro-batch starts, so a
// checkpoint's (epoch, position) resumes either path exactly.
import * as tf from '@tensorflow/tfjs-core';
import type { Batch, Dataset, ModelOutputs, VisionLanguageModel } from '@mmft/core';
import { deriveSeed, SeededRng } from '@mmft/image';
import { collateBatch, disposeBatch, type Collator } from '../data/collate';
import { keepsBatch, microBatches, type BatchRule } from '../data/stream';
import { pickTexts } from '../data/texts';
import { gatherRows } from '../eval/evaluate';
import { forwardWithScale } from '../model/forward';
import type { FeatureTable } from '../strategy/feature-cache';
import type { FeatureHead } from '../strategy/head';

/** One micro-batch ready to run; `forward` is called inside tf.variableGrads. */
export interface MicroStep {
  readonly batch: Batch;
  readonly size: number;
  /** Epoch and position right after this micro-batch. */
  readonly epoch: number;
  readonly nextPosition: number;
  forward(): ModelOutputs;
  dispose(): void;
}

export interface SourceStart extends BatchRule {
  readonly seed: number;
  readonly epoch: number;
  readonly position: number;
  readonly hardNegatives: boolean;
}

/** Micro-batches of the dataset, collated for `model`. */
export async function* modelSource(model: VisionLanguageModel, dataset: Dataset, collator: Collator, start: SourceStart): AsyncGenerator<MicroStep> {
  for await (const mb of microBatches(dataset, start)) {
    const texts = mb.examples.map((ex, i) => pickTexts(ex, start.seed, mb.epoch, mb.positions[i]!, start.hardNegatives));
    const batch = await collateBatch(collator, mb.examples, texts, mb.epoch, mb.positions);
    yield {
      batch,
      size: mb.examples.length,
      epoch: mb.epoch,
      nextPosition: mb.positions[mb.positions.length - 1]! + 1,
      forward: () => forwardWithScale(model, batch.inputs),
      dispose: () => disposeBatch(batch),
    };
  }
}

/** The epoch's order over cached rows: a seeded permutation (the encoders are not involved). */
function permutation(count: number, seed: number, epoch: number): number[] {
  return new SeededRng(deriveSeed(seed, epoch)).shuffle(Array.from({ length: count }, (_, i) => i));
}

/** Micro-batches of cached features through the head; captions drawn as pickTexts does. */
export async function* featureSource(table: FeatureTable, head: FeatureHead, start: SourceStart): AsyncGenerator<MicroStep> {
  let { epoch, position } = start;
  for (;;) {
    // The same batches as microBatches: a partial last batch only where keepsBatch allows it
    // (checkTrainSize has made sure that an epoch from position 0 has at least one batch).
    if (!keepsBatch(Math.min(start.batchSize, table.count - position), start)) ((epoch += 1), (position = 0));
    const order = permutation(table.count, start.seed, epoch);
    const rows = order.slice(position, position + start.batchSize);
    const positives: number[] = [];
    const negatives: number[] = [];
    rows.forEach((row, i) => {
      const rng = new SeededRng(deriveSeed(start.seed, epoch, position + i));
      positives.push(rng.int(table.textStart[row]!, table.textStart[row + 1]! - 1));
      const [from, to] = [table.negativeStart[row]!, table.negativeStart[row + 1]!];
      if (start.hardNegatives && to > from) negatives.push(rng.int(from, to - 1));
    });
    const image = gatherRows(table.image, rows, table.dim);
    const text = tf.tidy(() => tf.concat([gatherRows(table.text, positives, table.dim), gatherRows(table.negative, negatives, table.dim)]));
    position += rows.length;
    yield {
      batch: { inputs: {}, examples: [] },
      size: rows.length,
      epoch,
      nextPosition: position,
      forward: () => head.forward(image, text),
      dispose: () => (image.dispose(), text.dispose()),
    };
  }
}
