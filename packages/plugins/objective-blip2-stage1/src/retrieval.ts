// Retrieval inputs of the stage-1 evaluation: the ITC score of an image and a text is the max over
// the image's query features of their dot products with the text feature (LAVIS
// lavis/models/blip2_models/blip2.py, compute_sim_matrix, before its ITM re-ranking), which no
// single image embedding expresses, so the split is handed to metric-retrieval as one similarity
// matrix (core's RetrievalInput.similarity) once every chunk is in.
import * as tf from '@tensorflow/tfjs-core';
import type { RetrievalInput } from '@mmft/core';

/** Query features of every image and the feature of every text, chunk by chunk. */
export class RetrievalCollector {
  private readonly images: Float32Array[] = [];
  private readonly texts: Float32Array[] = [];
  private readonly owners: number[] = [];
  private imageCount = 0;
  queries = 0;
  dim = 0;

  get empty(): boolean {
    return this.imageCount === 0;
  }

  /** imageFeats [n, Q, E], textFeats [Σ textsPerImage, E]; texts of image i come in order. */
  add(ids: readonly string[], imageFeats: tf.Tensor, textFeats: tf.Tensor, textsPerImage: readonly number[]): void {
    [, this.queries, this.dim] = imageFeats.shape as [number, number, number];
    this.images.push(imageFeats.dataSync() as Float32Array);
    this.texts.push(textFeats.dataSync() as Float32Array);
    textsPerImage.forEach((count, i) => {
      for (let k = 0; k < count; k++) this.owners.push(this.imageCount + i);
    });
    this.imageCount += ids.length;
  }

  /** `matrix[image][text]` = max over queries q of imageFeats[image, q] · textFeats[text]. */
  similarity(): { matrix: Float32Array[]; textToImage: number[] } {
    const { queries, dim } = this;
    const texts = concat(this.texts);
    const images = concat(this.images);
    const nTexts = texts.length / dim;
    const matrix: Float32Array[] = [];
    for (let i = 0; i < this.imageCount; i++) {
      const row = new Float32Array(nTexts).fill(-Infinity);
      for (let q = 0; q < queries; q++) {
        const at = (i * queries + q) * dim;
        for (let t = 0; t < nTexts; t++) {
          let dot = 0;
          for (let d = 0; d < dim; d++) dot += images[at + d]! * texts[t * dim + d]!;
          if (dot > row[t]!) row[t] = dot;
        }
      }
      matrix.push(row);
    }
    return { matrix, textToImage: [...this.owners] };
  }
}

function concat(parts: readonly Float32Array[]): Float32Array {
  const out = new Float32Array(parts.reduce((n, p) => n + p.length, 0));
  parts.reduce((at, p) => (out.set(p, at), at + p.length), 0);
  return out;
}

/** The collected split as metric-retrieval reads it. */
export function retrievalInputOf(collector: RetrievalCollector): RetrievalInput {
  return { kind: 'retrieval', similarity: collector.similarity() };
}
