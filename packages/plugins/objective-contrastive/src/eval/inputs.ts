// What the contrastive objective's evaluation hands to metrics, by kind (core's MetricInput):
// - retrieval: the image and text embeddings of each chunk (metric-retrieval ranks them);
// - text: retrieval as captioning: each image's best-ranked caption among all eval texts is its
//   prediction, its own captions the references (caption metrics and exact-match can then score
//   a dual encoder, as a retrieval baseline for captioning);
// - vqa: CLIP zero-shot style: every distinct answer of the eval set is a candidate text, and an
//   image's prediction is the candidate closest to it (the question itself is not encoded).
// docs/training.md "The objective".
import type { RetrievalInput, TextInput, VqaExample, VqaInput } from '@mmft/core';

/** One evaluation batch: L2-comparable embeddings of images and of all their texts. */
export interface EvalChunk {
  readonly ids: readonly string[];
  readonly dim: number;
  /** [ids.length × dim] row-major. */
  readonly image: Float32Array;
  /** [textOwner.length × dim] row-major; row t is a text of image ids[textOwner[t]]. */
  readonly text: Float32Array;
  readonly textOwner: readonly number[];
}

const row = (data: Float32Array, i: number, dim: number) => data.subarray(i * dim, (i + 1) * dim);

/** The chunk as metric-retrieval reads it (embeddings form). */
export function retrievalInput(chunk: EvalChunk): RetrievalInput {
  return {
    kind: 'retrieval',
    images: chunk.ids.map((id, i) => ({ id, embedding: row(chunk.image, i, chunk.dim) })),
    texts: chunk.textOwner.map((owner, t) => ({ imageId: chunk.ids[owner]!, embedding: row(chunk.text, t, chunk.dim) })),
  };
}

/** Unit-length copies of `count` rows of width `dim`. */
function normalized(data: Float32Array, count: number, dim: number): Float32Array {
  const out = new Float32Array(count * dim);
  for (let r = 0; r < count; r++) {
    let norm = 0;
    for (let d = 0; d < dim; d++) norm += data[r * dim + d]! ** 2;
    const scale = 1 / Math.max(Math.sqrt(norm), 1e-12);
    for (let d = 0; d < dim; d++) out[r * dim + d] = data[r * dim + d]! * scale;
  }
  return out;
}

/** Index of the candidate row with the highest cosine similarity to each query row (first on ties). */
export function bestMatches(queries: Float32Array, candidates: Float32Array, dim: number): number[] {
  const q = normalized(queries, queries.length / dim, dim);
  const c = normalized(candidates, candidates.length / dim, dim);
  const best: number[] = [];
  for (let i = 0; i < q.length / dim; i++) {
    let top = -1;
    let topScore = -Infinity;
    for (let j = 0; j < c.length / dim; j++) {
      let s = 0;
      for (let d = 0; d < dim; d++) s += q[i * dim + d]! * c[j * dim + d]!;
      if (s > topScore) ((top = j), (topScore = s));
    }
    best.push(top);
  }
  return best;
}

/**
 * Retrieval as captioning over the whole eval split: chunks in order, with the strings of every
 * text row (`texts[t]` is the text of row t across all chunks).
 */
export function captionInputs(chunks: readonly EvalChunk[], texts: readonly string[]): TextInput[] {
  const dim = chunks[0]?.dim ?? 0;
  const concat = (parts: readonly Float32Array[]) => {
    const out = new Float32Array(parts.reduce((n, p) => n + p.length, 0));
    let at = 0;
    for (const p of parts) (out.set(p, at), (at += p.length));
    return out;
  };
  const ids = chunks.flatMap((c) => c.ids);
  const owners: number[] = [];
  let offset = 0;
  for (const c of chunks) (owners.push(...c.textOwner.map((o) => o + offset)), (offset += c.ids.length));
  const best = bestMatches(concat(chunks.map((c) => c.image)), concat(chunks.map((c) => c.text)), dim);
  return ids.map((id, i) => ({ kind: 'text', id, prediction: texts[best[i]!]!, references: texts.filter((_, t) => owners[t] === i) }));
}

/** The candidate answers of a VQA split: every distinct short answer, in first-seen order. */
export function answerVocabulary(examples: readonly VqaExample[]): string[] {
  return [...new Set(examples.flatMap((e) => [e.answer, ...(e.answers ?? [])]))];
}

/** VQA inputs from image embeddings ([examples × dim]) ranked against candidate embeddings. */
export function vqaInputs(
  examples: readonly VqaExample[],
  images: Float32Array,
  candidates: Float32Array,
  vocabulary: readonly string[],
  dim: number,
): VqaInput[] {
  const best = bestMatches(images, candidates, dim);
  return examples.map((e, i) => ({
    kind: 'vqa',
    id: e.id,
    prediction: vocabulary[best[i]!]!,
    answers: e.answers ?? [e.answer],
    ...(e.answerType === undefined ? {} : { answerType: e.answerType }),
    ...(e.questionType === undefined ? {} : { questionType: e.questionType }),
  }));
}
