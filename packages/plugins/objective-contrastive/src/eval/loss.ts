// Shared pieces of contrastive evaluation: the loss of a chunk of paired outputs (eval_loss is
// averaged over images, as HF Trainer's evaluation_loop reports it) and row gathering.
import * as tf from '@tensorflow/tfjs-core';
import type { Batch, Loss, ModelOutputs } from '@mmft/core';

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

/** Rows `rows` of a [n × dim] array as a tensor. */
export function gatherRows(data: Float32Array, rows: readonly number[], dim: number): tf.Tensor2D {
  const out = new Float32Array(rows.length * dim);
  rows.forEach((r, i) => out.set(data.subarray(r * dim, (r + 1) * dim), i * dim));
  return tf.tensor2d(out, [rows.length, dim]);
}
