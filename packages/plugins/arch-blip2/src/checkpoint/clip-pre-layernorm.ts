// CLIP's pre_layrnorm, which Blip2VisionModel lacks (src/transformers/models/clip/modeling_clip.py
// CLIPVisionTransformer applies it to the embeddings before layer 0; modeling_blip_2.py
// Blip2VisionModel has none), folded into the embeddings: exactly for the class token, whose
// embedding is a constant; for the patch tokens up to their per-token std, which one fixed σ stands
// in for (given, or estimated from the weights here). That is the default (`vision_pre_layernorm:
// fold`); `drop` (clip-to-blip2-vision.ts) leaves it out, so the encoder sees the raw embeddings.
// docs/blip2.md "Composing from parts" reports how far each is from CLIP's states.
import type { Tensor } from './part-folders';

/** Rows of a row-major [rows, width] matrix, each minus its own mean over `width` (the LN centring C = I − 11ᵀ/D acts on hidden dims). */
export function centreOverHidden(rows: Float64Array[]): Float64Array[] {
  return rows.map((row) => {
    const mean = row.reduce((a, c) => a + c, 0) / row.length;
    return row.map((c) => c - mean);
  });
}

/** The conv kernel [D, 3, p, p] as K = 3·p·p columns of D: column k is what input pixel k adds to the hidden dims. */
export function convColumns(conv: Tensor): Float64Array[] {
  const d = conv.shape[0]!;
  const k = conv.data.length / d;
  return Array.from({ length: k }, (_, col) => Float64Array.from({ length: d }, (__, o) => conv.data[o * k + col]!));
}

/**
 * What a patch's normalised pixels are taken to be, each with per-channel mean 0 and variance 1
 * (what the image processor's mean / std make of the images they were computed on): `iid`
 * independent pixels (the default: it assumes no image structure); `flat` one value per channel
 * over the patch, channels independent; `flat-grey` one value for the whole patch.
 */
export type PixelModel = 'iid' | 'flat' | 'flat-grey';

/**
 * A weight-only stand-in for the per-token std of CLIP's patch embeddings e_i = W·x_i + bias + pos[i]:
 * sqrt(mean over patch positions i of E[var_hidden(e_i)] + eps), the RMS of the token std (RMS, not
 * mean, because the variance is what adds up over tokens and pixels). Var over hidden dims is
 * ‖C·v‖² / D with C = I − 11ᵀ/D, so E[var(e_i)] = (‖C·(bias + pos[i])‖² + tr(C W Σ Wᵀ C)) / D, Σ the
 * pixel covariance of `pixels` (iid: tr = ‖C·W‖²_F). The true std depends on the images; on
 * models/clip-shapes-base the three models give 0.29 / 0.77 / 0.19 against a measured 0.41, and iid
 * errs low, where the tower degrades more slowly (docs/blip2.md "Composing from parts"). Where the
 * images are known, measuring the std and passing init.vision_pre_layernorm_scale is better.
 */
export function estimateClipEmbeddingStd(
  conv: Tensor,
  positions: Tensor,
  eps: number,
  options: { convBias?: Float32Array; pixels?: PixelModel } = {},
): number {
  const d = conv.shape[0]!;
  const patch = conv.shape[2]! * conv.shape[3]!;
  const channels = conv.shape[1]!;
  const cols = centreOverHidden(convColumns(conv));
  const sq = (v: Float64Array) => v.reduce((a, c) => a + c * c, 0);
  let pixelTerm = 0;
  const model = options.pixels ?? 'iid';
  if (model === 'iid') for (const col of cols) pixelTerm += sq(col);
  else {
    const sums = Array.from({ length: model === 'flat' ? channels : 1 }, () => new Float64Array(d));
    cols.forEach((col, k) => {
      const target = sums[model === 'flat' ? Math.floor(k / patch) : 0]!;
      col.forEach((c, o) => (target[o] += c));
    });
    for (const sum of sums) pixelTerm += sq(sum);
  }
  const n = positions.shape[0]!;
  const rows = Array.from({ length: n - 1 }, (_, i) =>
    Float64Array.from({ length: d }, (__, o) => positions.data[(i + 1) * d + o]! + (options.convBias?.[o] ?? 0)),
  );
  const posTerm = centreOverHidden(rows).reduce((a, row) => a + sq(row), 0) / (n - 1);
  return Math.sqrt((posTerm + pixelTerm) / d + eps);
}

/**
 * CLIP's pre_layrnorm LN(e) = g ⊙ (e − mean(e)) / sqrt(var(e) + eps) + b folded into Blip2VisionEmbeddings.
 * The class token's embedding class_embedding + pos[0] is a constant: its LN is the new class
 * embedding and position row 0 becomes zero (exact). A patch token's centring is linear, so it moves
 * into the conv kernel and the position rows: W' = diag(g/σ)·C·W, bias' = diag(g/σ)·C·bias + b,
 * pos'[i] = diag(g/σ)·C·pos[i]; only its own std cannot, and the fixed σ stands in for it.
 */
export function foldPreLayerNorm(
  parts: { cls: Tensor; conv: Tensor; convBias?: Float32Array; pos: Tensor; weight: Tensor; bias: Tensor },
  eps: number,
  sigma: number,
) {
  const { cls, conv, pos, weight: g, bias: b } = parts;
  const d = cls.data.length;
  const n = pos.shape[0]!;
  const first = Float64Array.from(cls.data, (c, o) => c + pos.data[o]!);
  const mean = first.reduce((a, c) => a + c, 0) / d;
  const variance = first.reduce((a, c) => a + (c - mean) ** 2, 0) / d;
  const newCls = Float32Array.from(first, (c, o) => ((c - mean) / Math.sqrt(variance + eps)) * g.data[o]! + b.data[o]!);

  const k = conv.data.length / d;
  const newConv = new Float32Array(conv.data.length);
  centreOverHidden(convColumns(conv)).forEach((col, c) => col.forEach((v, o) => (newConv[o * k + c] = (g.data[o]! / sigma) * v)));
  const [centredBias] = centreOverHidden([Float64Array.from({ length: d }, (_, o) => parts.convBias?.[o] ?? 0)]);
  const newBias = Float32Array.from(centredBias!, (v, o) => (g.data[o]! / sigma) * v + b.data[o]!);
  const newPos = new Float32Array(pos.data.length); // row 0 stays zero: the class token's position is inside newCls
  const rows = centreOverHidden(Array.from({ length: n - 1 }, (_, i) => Float64Array.from(pos.data.subarray((i + 1) * d, (i + 2) * d))));
  rows.forEach((row, i) => row.forEach((v, o) => (newPos[(i + 1) * d + o] = (g.data[o]! / sigma) * v)));
  return { cls: newCls, conv: newConv, convBias: newBias, pos: newPos };
}

export interface ClipPreLayerNormOptions {
  readonly mode: 'fold' | 'drop';
  /** With fold: σ; absent, estimateClipEmbeddingStd. */
  readonly scale?: number;
  /** vision_config.layer_norm_eps (CLIP's pre_layrnorm uses the same). */
  readonly eps: number;
}
