// An independent plain-JS (float64 loops) forward of Blip2ForImageTextRetrieval and the stage-1
// text decoder, written from transformers' models/blip_2/modeling_blip_2.py (Blip2TextEmbeddings,
// Blip2ForImageTextRetrieval.forward) and LAVIS' lavis/models/blip2_models/Qformer.py
// (get_extended_attention_mask with has_query, BertLMPredictionHead), not from this package's
// modules. One sample at a time; weights by HF state-dict name.
import {
  refGelu,
  refLayerNorm,
  refLinear,
  refQFormerForward,
  refVisionForward,
  type RefQFormerShape,
  type RefVisionShape,
  type RefWeights,
} from './reference-blip2';

type Mat = number[][];

/** Shape fields the retrieval reference reads. */
export interface RefRetrievalShape {
  readonly vision: RefVisionShape;
  readonly qformer: RefQFormerShape & { readonly hidden_size: number };
  readonly numQueryTokens: number;
}

const rowsOf = (w: RefWeights, name: string): Mat => {
  const t = w(name);
  const cols = t.shape[t.shape.length - 1]!;
  const rows = t.data.length / cols;
  return Array.from({ length: rows }, (_, r) => Array.from({ length: cols }, (_, c) => t.data[r * cols + c]!));
};

/** x / max(‖x‖, 1e-12), as F.normalize. */
export const refNormalize = (x: readonly number[]): number[] => {
  const n = Math.max(Math.sqrt(x.reduce((a, v) => a + v * v, 0)), 1e-12);
  return x.map((v) => v / n);
};

const dot = (a: readonly number[], b: readonly number[]) => a.reduce((s, v, i) => s + v * b[i]!, 0);

/** Blip2TextEmbeddings: word_embeddings[id] + position_embeddings[t], queries (when given) in front. */
export function refTextEmbeddings(w: RefWeights, ids: readonly number[], queries?: Mat): Mat {
  const words = rowsOf(w, 'embeddings.word_embeddings.weight');
  const positions = rowsOf(w, 'embeddings.position_embeddings.weight');
  const text = ids.map((id, t) => words[id]!.map((v, i) => v + positions[t]![i]!));
  return queries ? [...queries, ...text] : text;
}

/** The image path: vision last_hidden_state, query outputs and normalised vision_projection of each query. */
export function refEncodeImage(w: RefWeights, shape: RefRetrievalShape, image: number[][][]): { imageEmbeds: Mat; imageFeats: Mat } {
  const imageEmbeds = refVisionForward(w, shape.vision, image).lastHiddenState;
  const queries = rowsOf(w, 'query_tokens');
  const states = refQFormerForward(w, shape.qformer, queries, imageEmbeds, shape.numQueryTokens);
  const out = states[states.length - 1]!;
  return { imageEmbeds, imageFeats: refLinear(out, w, 'vision_projection').map(refNormalize) };
}

/** The text path (no queries, bidirectional over unpadded text): normalised text_projection of token 0. */
export function refEncodeText(w: RefWeights, shape: RefRetrievalShape, ids: readonly number[], mask: readonly number[]): number[] {
  const states = refQFormerForward(w, shape.qformer, refTextEmbeddings(w, ids), undefined, 0, mask);
  return refNormalize(refLinear([states[states.length - 1]![0]!], w, 'text_projection')[0]!);
}

/** ITC similarity of one image and one text: max over the queries of imageFeats[q] · textFeat. */
export function refItcSimilarity(imageFeats: Mat, textFeat: readonly number[]): number {
  return Math.max(...imageFeats.map((f) => dot(f, textFeat)));
}

/** ITM logits [2]: queries + text bidirectional, queries cross-attending to `imageEmbeds`, itm_head averaged over the queries. */
export function refMatchLogits(
  w: RefWeights,
  shape: RefRetrievalShape,
  ids: readonly number[],
  mask: readonly number[],
  imageEmbeds: Mat,
): number[] {
  const q = shape.numQueryTokens;
  const embeds = refTextEmbeddings(w, ids, rowsOf(w, 'query_tokens'));
  const states = refQFormerForward(w, shape.qformer, embeds, imageEmbeds, q, [...new Array<number>(q).fill(1), ...mask]);
  const logits = refLinear(states[states.length - 1]!.slice(0, q), w, 'itm_head');
  return [0, 1].map((c) => logits.reduce((s, row) => s + row[c]!, 0) / q);
}

/**
 * LAVIS' UniLM mask for Q queries and a text mask of length T: [Q + T][Q + T] of 1/0, built
 * element by element: a query row sees query columns only; text row t sees every query column and
 * text column s when s ≤ t and mask[s] = 1.
 */
export function refUnilmMask(q: number, mask: readonly number[]): number[][] {
  const n = q + mask.length;
  return Array.from({ length: n }, (_, r) =>
    Array.from({ length: n }, (_, c) => {
      if (c < q) return 1;
      if (r < q) return 0;
      return c - q <= r - q && mask[c - q] === 1 ? 1 : 0;
    }),
  );
}

/**
 * ITG logits [T][V]: the states of the text positions under the UniLM mask through the BERT LM head
 * (dense → GELU → LayerNorm → · word_embeddingsᵀ + bias). Returns the Q-Former states too.
 */
export function refGroundedTextLogits(
  w: RefWeights,
  shape: RefRetrievalShape,
  ids: readonly number[],
  mask: readonly number[],
  imageEmbeds: Mat,
): { logits: Mat; states: Mat } {
  const q = shape.numQueryTokens;
  const embeds = refTextEmbeddings(w, ids, rowsOf(w, 'query_tokens'));
  const all = refQFormerForward(w, shape.qformer, embeds, imageEmbeds, q, refUnilmMask(q, mask));
  const states = all[all.length - 1]!;
  const dense = refLinear(states.slice(q), w, 'qformer_lm_head.transform.dense').map((r) => r.map(refGelu));
  const h = refLayerNorm(dense, w, 'qformer_lm_head.transform.LayerNorm', shape.qformer.layer_norm_eps);
  const words = rowsOf(w, 'embeddings.word_embeddings.weight');
  const bias = w('qformer_lm_head.bias').data;
  return { logits: h.map((row) => words.map((word, v) => dot(row, word) + bias[v]!)), states };
}
