// Producers of evaluation chunks for the two paths: the full model (encoders run on the eval
// split each evaluation) and the feature head (cached eval features, encoders never run).
import * as tf from '@tensorflow/tfjs-core';
import type { Dataset, Example, Loss, VisionLanguageModel } from '@mmft/core';
import type { Collator } from '../data/collate';
import { positiveTexts } from '../data/texts';
import { embedOne, forwardWithScale } from '../model/forward';
import type { FeatureTable } from '../features/feature-cache';
import type { FeatureHead } from '../features/head';
import type { EvalChunk } from './inputs';
import { chunkLoss, firstTextRows, gatherRows } from './loss';

/** A chunk plus its loss (first text of each image), summed: times its number of images. */
export interface ScoredChunk extends EvalChunk {
  readonly lossSum: number;
}

async function modelChunk(
  model: VisionLanguageModel,
  collator: Collator,
  loss: Loss,
  examples: readonly Example[],
  first: number,
): Promise<ScoredChunk> {
  const texts = examples.map(positiveTexts);
  const textOwner = texts.flatMap((list, owner) => list.map(() => owner));
  const pixelValues = await collator.images(
    examples,
    0,
    examples.map((_, i) => first + i),
  );
  const all = collator.texts(texts.flat());
  const { image, text, lossSum } = tf.tidy(() => {
    const outputs = forwardWithScale(model, { pixelValues });
    const textEmbeds = embedOne(model, all, 'textEmbeds');
    const firsts = tf.gather(textEmbeds, firstTextRows(textOwner, examples.length));
    const value = chunkLoss(loss, { ...outputs, textEmbeds: firsts }, examples.length);
    return { image: outputs.imageEmbeds!, text: textEmbeds, lossSum: tf.scalar(value) };
  });
  for (const t of [pixelValues, all.inputIds, all.attentionMask]) t.dispose();
  const chunk = {
    ids: examples.map((e) => e.id),
    dim: image.shape[1]!,
    image: (await image.data()) as Float32Array,
    text: (await text.data()) as Float32Array,
    textOwner,
    lossSum: lossSum.dataSync()[0]!,
  };
  for (const t of [image, text, lossSum]) t.dispose();
  return chunk;
}

/** Examples [start, end) of the eval split (a queue shard); `start` is a multiple of the batch size. */
export interface EvalRange {
  readonly start: number;
  readonly end: number;
}

/** Chunks of the eval split (or of `range` of it, each example at its whole-pass position) through the model, in dataset order. */
export async function* modelEvalChunks(
  model: VisionLanguageModel,
  dataset: Dataset,
  collator: Collator,
  loss: Loss,
  batchSize: number,
  range?: EvalRange,
): AsyncGenerator<ScoredChunk> {
  let batch: Example[] = [];
  let seen = range?.start ?? 0;
  let left = range ? range.end - range.start : Infinity;
  if (left <= 0) return;
  for await (const example of dataset.iterate({ shuffle: false, ...(range ? { startAt: range.start } : {}) })) {
    batch.push(example);
    left--;
    if (batch.length === batchSize || left === 0) {
      yield await modelChunk(model, collator, loss, batch, seen);
      seen += batch.length;
      batch = [];
    }
    if (left === 0) break;
  }
  if (batch.length) yield await modelChunk(model, collator, loss, batch, seen);
}

/** Chunks of cached eval features (or of rows `range` of them) through the head. */
export async function* featureEvalChunks(
  table: FeatureTable,
  head: FeatureHead,
  loss: Loss,
  batchSize: number,
  range?: EvalRange,
): AsyncGenerator<ScoredChunk> {
  const limit = Math.min(table.count, range?.end ?? table.count);
  for (let start = range?.start ?? 0; start < limit; start += batchSize) {
    const end = Math.min(limit, start + batchSize);
    const rows = Array.from({ length: end - start }, (_, i) => start + i);
    const textRows = Array.from({ length: table.textStart[end]! - table.textStart[start]! }, (_, i) => table.textStart[start]! + i);
    const textOwner = textRows.map((r) => rows.findIndex((e) => r >= table.textStart[e]! && r < table.textStart[e + 1]!));
    const { image, text, lossSum } = tf.tidy(() => {
      const outputs = head.forward(gatherRows(table.image, rows, table.dim), gatherRows(table.text, textRows, table.dim));
      const firsts = tf.gather(outputs.textEmbeds!, firstTextRows(textOwner, rows.length));
      return {
        image: outputs.imageEmbeds!,
        text: outputs.textEmbeds!,
        lossSum: tf.scalar(chunkLoss(loss, { ...outputs, textEmbeds: firsts }, rows.length)),
      };
    });
    yield {
      ids: table.ids.slice(start, end),
      dim: image.shape[1]!,
      image: (await image.data()) as Float32Array,
      text: (await text.data()) as Float32Array,
      textOwner,
      lossSum: lossSum.dataSync()[0]!,
    };
    for (const t of [image, text, lossSum]) t.dispose();
  }
}
