// Evaluation during training: embed the eval split in order (model or feature head), score the
// recipe's metrics through their adapters and average the loss over eval batches (eval_loss, as
// HF Trainer's evaluation_loop reports). Scores are named "<metric id>.<score>".
import * as tf from '@tensorflow/tfjs-core';
import type { Batch, Loss, Metric, MetricProvider, ModelOutputs } from '@mmft/core';
import { adapterFor, type EvalChunk } from './metric-adapters';

/** One metric of the recipe, created once per run. */
export interface EvalMetric {
  readonly id: string;
  readonly provider: MetricProvider;
  readonly metric: Metric;
}

/** A chunk plus the outputs whose loss is the chunk's eval loss (first text of each image). */
export interface ScoredChunk extends EvalChunk {
  /** Loss of this chunk times its number of images (summed, then divided by all images). */
  readonly lossSum: number;
}

/** Loss of paired outputs of `images` images; 0 for a single image (no negatives). */
export function chunkLoss(loss: Loss, outputs: ModelOutputs, images: number): number {
  if (images < 2) return 0;
  const batch: Batch = { inputs: {}, examples: [] };
  const value = loss.compute(outputs, batch);
  const result = value.dataSync()[0]! * images;
  value.dispose();
  return result;
}

/** Row indices of the first text of every image (texts are grouped by owner, in order). */
export function firstTextRows(textOwner: readonly number[], images: number): number[] {
  const rows: number[] = new Array<number>(images).fill(-1);
  textOwner.forEach((owner, t) => {
    if (rows[owner] === -1) rows[owner] = t;
  });
  return rows;
}

/**
 * Score all chunks: `eval_loss` plus every metric's scores.
 *
 * @example
 * const scores = await evaluate(chunks, metrics); // { eval_loss: 1.2, 'retrieval.i2t_R@1': 40, ... }
 */
export async function evaluate(chunks: AsyncIterable<ScoredChunk>, metrics: readonly EvalMetric[]): Promise<Record<string, number>> {
  for (const m of metrics) m.metric.reset();
  let lossSum = 0;
  let images = 0;
  for await (const chunk of chunks) {
    lossSum += chunk.lossSum;
    images += chunk.ids.length;
    for (const m of metrics) m.metric.update(adapterFor(m.id)(chunk));
  }
  const scores: Record<string, number> = { eval_loss: images ? lossSum / images : Number.NaN };
  for (const m of metrics) for (const [name, value] of Object.entries(m.metric.compute().scores)) scores[`${m.id}.${name}`] = value;
  return scores;
}

/** Rows `rows` of a [n × dim] array as a tensor. */
export function gatherRows(data: Float32Array, rows: readonly number[], dim: number): tf.Tensor2D {
  const out = new Float32Array(rows.length * dim);
  rows.forEach((r, i) => out.set(data.subarray(r * dim, (r + 1) * dim), i * dim));
  return tf.tensor2d(out, [rows.length, dim]);
}
