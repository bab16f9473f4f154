// The streaming retrieval metric: `update` collects image and text embeddings (or takes a whole
// similarity matrix), `compute` ranks both directions. Cosine similarity = dot product of
// L2-normalised embeddings, computed one image row at a time.
import { MmftError, type Metric, type MetricReport, type RetrievalInput, type Untagged } from '@mmft/core';
import type { RetrievalConfig } from './config';
import { computeRanks } from './ranks';
import { summarize } from './summarize';

/** A batch as `update` takes it: core's `retrieval` input (embeddings or one matrix), `kind` optional. */
export type RetrievalUpdate = Untagged<RetrievalInput>;

function normalized(embedding: ArrayLike<number>, what: string): Float64Array {
  const v = Float64Array.from(embedding);
  const norm = Math.hypot(...v);
  if (!(norm > 0) || !Number.isFinite(norm)) {
    throw new MmftError('E_DATA', `retrieval metric: ${what} has a zero or non-finite embedding; cosine similarity is undefined`);
  }
  return v.map((x) => x / norm);
}

/**
 * Recall@K (percent), MRR, median rank and mAP for image→text (`i2t`) and text→image (`t2i`).
 *
 * @example
 * const m = new RetrievalMetric({ ks: [1, 5, 10] });
 * m.update({ images: [{ id: 'a', embedding: [1, 0] }], texts: [{ imageId: 'a', embedding: [1, 0] }] });
 * m.compute().groups!.i2t!.all!['R@1']; // 100
 */
export class RetrievalMetric implements Metric<RetrievalInput> {
  private images: { id: string; v: Float64Array }[] = [];
  private texts: { imageId: string; v: Float64Array }[] = [];
  private matrix?: RetrievalUpdate['similarity'];

  constructor(private readonly config: RetrievalConfig) {}

  reset(): void {
    this.images = [];
    this.texts = [];
    this.matrix = undefined;
  }

  update(batch: RetrievalUpdate | readonly RetrievalUpdate[]): void {
    const items: readonly RetrievalUpdate[] = Array.isArray(batch) ? batch : [batch as RetrievalUpdate];
    for (const item of items) {
      if (item.similarity) {
        if (this.matrix || this.images.length + this.texts.length > 0) {
          throw new MmftError('E_INPUT', 'retrieval metric: a similarity matrix must be the only update (call reset() first)');
        }
        this.matrix = item.similarity;
      }
      for (const image of item.images ?? []) this.images.push({ id: image.id, v: normalized(image.embedding, `image "${image.id}"`) });
      for (const text of item.texts ?? [])
        this.texts.push({ imageId: text.imageId, v: normalized(text.embedding, `a caption of "${text.imageId}"`) });
      if (this.matrix && this.images.length + this.texts.length > 0) {
        throw new MmftError('E_INPUT', 'retrieval metric: give either embeddings or one similarity matrix, not both');
      }
    }
  }

  compute(): MetricReport {
    const { nImages, nTexts, rowAt, textToImage } = this.matrix ? this.fromMatrix() : this.fromEmbeddings();
    if (nImages === 0 || nTexts === 0) throw new MmftError('E_INPUT', 'retrieval metric: nothing to score (no images or no texts)');
    const hasCaption = new Uint8Array(nImages);
    for (let t = 0; t < nTexts; t++) {
      const i = textToImage[t]!;
      if (!Number.isInteger(i) || i < 0 || i >= nImages) {
        throw new MmftError(
          'E_DATA',
          `retrieval metric: text ${t} points to image ${i}, but there are ${nImages} images (0..${nImages - 1})`,
        );
      }
      hasCaption[i] = 1;
    }
    const orphan = hasCaption.indexOf(0);
    if (orphan >= 0)
      throw new MmftError('E_DATA', `retrieval metric: image ${orphan} has no caption, so image→text recall is undefined for it`);
    const ranks = computeRanks(nImages, nTexts, rowAt, textToImage);
    const i2t = summarize(ranks.i2t, ranks.i2tAll, this.config.ks);
    const t2i = summarize(
      ranks.t2i,
      Array.from(ranks.t2i, (r) => [r]),
      this.config.ks,
    );
    const scores: Record<string, number> = {};
    for (const [k, v] of Object.entries(i2t)) scores[`i2t_${k}`] = v;
    for (const [k, v] of Object.entries(t2i)) scores[`t2i_${k}`] = v;
    return { scores, groups: { i2t: { all: i2t }, t2i: { all: t2i } } };
  }

  private fromMatrix() {
    const { matrix, textToImage } = this.matrix!;
    const nTexts = textToImage.length;
    matrix.forEach((row, i) => {
      if (row.length !== nTexts) {
        throw new MmftError(
          'E_SHAPE',
          `retrieval metric: similarity row ${i} has ${row.length} columns, text_to_image has ${nTexts} texts`,
        );
      }
    });
    return { nImages: matrix.length, nTexts, rowAt: (i: number) => matrix[i]!, textToImage };
  }

  private fromEmbeddings() {
    const index = new Map<string, number>();
    this.images.forEach(({ id }, i) => {
      if (index.has(id)) throw new MmftError('E_DATA', `retrieval metric: image "${id}" was given twice`);
      index.set(id, i);
    });
    const textToImage = this.texts.map(({ imageId }) => {
      const i = index.get(imageId);
      if (i === undefined) throw new MmftError('E_DATA', `retrieval metric: a caption names image "${imageId}", which no update gave`);
      return i;
    });
    const dim = this.images[0]?.v.length ?? 0;
    for (const { v, imageId } of this.texts) {
      if (v.length !== dim)
        throw new MmftError('E_SHAPE', `retrieval metric: caption of "${imageId}" has dimension ${v.length}, images have ${dim}`);
    }
    const row = new Float64Array(this.texts.length);
    const rowAt = (i: number): Float64Array => {
      const a = this.images[i]!.v;
      if (a.length !== dim)
        throw new MmftError('E_SHAPE', `retrieval metric: image "${this.images[i]!.id}" has dimension ${a.length}, expected ${dim}`);
      this.texts.forEach(({ v }, t) => {
        let dot = 0;
        for (let d = 0; d < dim; d++) dot += a[d]! * v[d]!;
        row[t] = dot;
      });
      return row;
    };
    return { nImages: this.images.length, nTexts: this.texts.length, rowAt, textToImage };
  }
}
