// An independent plain-JS (float64 loops) forward of BLIP-2's vision model and Q-Former, written
// from the formulas of transformers' models/blip_2/modeling_blip_2.py (not from this package's
// modules): tests compare the tfjs modules with it layer by layer.

/** A weight by HF state-dict name: shape and row-major values. */
export type RefWeights = (name: string) => { shape: readonly number[]; data: ArrayLike<number> };

type Mat = number[][];

/** erf by Abramowitz–Stegun 7.1.26 refined with one Newton step on erf's series is overkill; 7.1.26's 1.5e-7 is enough here. */
function erf(x: number): number {
  const s = Math.sign(x);
  const a = Math.abs(x);
  const t = 1 / (1 + 0.3275911 * a);
  const y = 1 - ((((1.061405429 * t - 1.453152027) * t + 1.421413741) * t - 0.284496736) * t + 0.254829592) * t * Math.exp(-a * a);
  return s * y;
}

/** Exact GELU x·Φ(x). */
export const refGelu = (x: number): number => 0.5 * x * (1 + erf(x / Math.SQRT2));

/** x Wᵀ + b for the Linear `name`. */
export function refLinear(x: Mat, w: RefWeights, name: string, bias = true): Mat {
  const W = w(`${name}.weight`);
  const [out, inn] = W.shape as [number, number];
  const b = bias ? w(`${name}.bias`).data : undefined;
  return x.map((row) => {
    const y = new Array<number>(out).fill(0);
    for (let o = 0; o < out; o++) {
      let s = b ? b[o]! : 0;
      for (let i = 0; i < inn; i++) s += W.data[o * inn + i]! * row[i]!;
      y[o] = s;
    }
    return y;
  });
}

/** LayerNorm `name` over each row. */
export function refLayerNorm(x: Mat, w: RefWeights, name: string, eps: number): Mat {
  const g = w(`${name}.weight`).data;
  const b = w(`${name}.bias`).data;
  return x.map((row) => {
    const mean = row.reduce((a, v) => a + v, 0) / row.length;
    const variance = row.reduce((a, v) => a + (v - mean) ** 2, 0) / row.length;
    return row.map((v, i) => ((v - mean) / Math.sqrt(variance + eps)) * g[i]! + b[i]!);
  });
}

const add = (a: Mat, b: Mat): Mat => a.map((row, i) => row.map((v, j) => v + b[i]![j]!));

/** softmax(q kᵀ · scale + mask) v per head; q [T, H·hd], k, v [S, H·hd]; mask additive, [S] for every row or [T][S] per row. */
function attend(q: Mat, k: Mat, v: Mat, heads: number, maskIn?: readonly number[] | readonly (readonly number[])[]): Mat {
  const d = q[0]!.length;
  const hd = d / heads;
  return q.map((qi, row) => {
    const mask =
      maskIn === undefined ? undefined : Array.isArray(maskIn[0]) ? (maskIn[row] as readonly number[]) : (maskIn as readonly number[]);
    const out = new Array<number>(d).fill(0);
    for (let h = 0; h < heads; h++) {
      const scores = k.map((kj, j) => {
        let s = 0;
        for (let c = 0; c < hd; c++) s += qi[h * hd + c]! * kj[h * hd + c]!;
        return s / Math.sqrt(hd) + (mask ? mask[j]! : 0);
      });
      const m = Math.max(...scores);
      const e = scores.map((s) => Math.exp(s - m));
      const z = e.reduce((a, x) => a + x, 0);
      e.forEach((p, j) => {
        for (let c = 0; c < hd; c++) out[h * hd + c]! += (p / z) * v[j]![h * hd + c]!;
      });
    }
    return out;
  });
}

/** Vision shape fields the reference reads. */
export interface RefVisionShape {
  hidden_size: number;
  num_attention_heads: number;
  num_hidden_layers: number;
  patch_size: number;
  image_size: number;
  layer_norm_eps: number;
  qkv_bias: boolean;
}

/**
 * Blip2VisionModel for one image [3][S][S]: returns the states after the embeddings and after each
 * layer, and last_hidden_state = post_layernorm(final states).
 */
export function refVisionForward(w: RefWeights, config: RefVisionShape, image: number[][][]): { layers: Mat[]; lastHiddenState: Mat } {
  const { hidden_size: d, patch_size: p, image_size: size } = config;
  const grid = size / p;
  const conv = w('vision_model.embeddings.patch_embedding.weight').data;
  const convBias = w('vision_model.embeddings.patch_embedding.bias').data;
  const cls = w('vision_model.embeddings.class_embedding').data;
  const pos = w('vision_model.embeddings.position_embedding').data;
  const tokens: Mat = [Array.from({ length: d }, (_, i) => cls[i]!)];
  for (let gy = 0; gy < grid; gy++) {
    for (let gx = 0; gx < grid; gx++) {
      const row = new Array<number>(d).fill(0);
      for (let o = 0; o < d; o++) {
        let s = convBias[o]!;
        for (let c = 0; c < 3; c++)
          for (let ky = 0; ky < p; ky++)
            for (let kx = 0; kx < p; kx++) s += conv[((o * 3 + c) * p + ky) * p + kx]! * image[c]![gy * p + ky]![gx * p + kx]!;
        row[o] = s;
      }
      tokens.push(row);
    }
  }
  let x = tokens.map((row, t) => row.map((v, i) => v + pos[t * d + i]!));
  const layers: Mat[] = [x];
  for (let l = 0; l < config.num_hidden_layers; l++) {
    const pre = `vision_model.encoder.layers.${l}`;
    const h = refLayerNorm(x, w, `${pre}.layer_norm1`, config.layer_norm_eps);
    const qkv = refLinear(h, w, `${pre}.self_attn.qkv`, config.qkv_bias);
    const q = qkv.map((r) => r.slice(0, d));
    const k = qkv.map((r) => r.slice(d, 2 * d));
    const v = qkv.map((r) => r.slice(2 * d));
    x = add(x, refLinear(attend(q, k, v, config.num_attention_heads), w, `${pre}.self_attn.projection`));
    const h2 = refLayerNorm(x, w, `${pre}.layer_norm2`, config.layer_norm_eps);
    x = add(
      x,
      refLinear(
        refLinear(h2, w, `${pre}.mlp.fc1`).map((r) => r.map(refGelu)),
        w,
        `${pre}.mlp.fc2`,
      ),
    );
    layers.push(x);
  }
  return { layers, lastHiddenState: refLayerNorm(x, w, 'vision_model.post_layernorm', config.layer_norm_eps) };
}

/** Q-Former shape fields the reference reads. */
export interface RefQFormerShape {
  num_attention_heads: number;
  num_hidden_layers: number;
  cross_attention_frequency: number;
  layer_norm_eps: number;
}

/**
 * Blip2QFormerModel for one sample: `embeds` [T][H] (queries then text), the first `queryLength`
 * are queries; `image` [S][E]; `mask` [T] of 1/0, or [T][T] of 1/0 where row t says which
 * positions t sees. Returns the states after the input LayerNorm and after each layer. `prefix` is
 * where the Q-Former's weights live ("qformer").
 */
export function refQFormerForward(
  w: RefWeights,
  config: RefQFormerShape,
  embeds: Mat,
  image: Mat | undefined,
  queryLength: number,
  mask?: readonly number[] | readonly (readonly number[])[],
  prefix = 'qformer',
): Mat[] {
  const eps = config.layer_norm_eps;
  const heads = config.num_attention_heads;
  const toAdditive = (m: number) => (1 - m) * -10000;
  const given = mask ?? embeds.map(() => 1);
  const additive = Array.isArray(given[0])
    ? (given as readonly (readonly number[])[]).map((row) => row.map(toAdditive))
    : (given as readonly number[]).map(toAdditive);
  let x = refLayerNorm(embeds, w, `${prefix}.layernorm`, eps);
  const out: Mat[] = [x];
  const block = (input: Mat, name: string, kv: Mat, kvMask?: readonly number[] | readonly (readonly number[])[]) => {
    const ctx = attend(
      refLinear(input, w, `${name}.attention.query`),
      refLinear(kv, w, `${name}.attention.key`),
      refLinear(kv, w, `${name}.attention.value`),
      heads,
      kvMask,
    );
    return refLayerNorm(add(refLinear(ctx, w, `${name}.output.dense`), input), w, `${name}.output.LayerNorm`, eps);
  };
  const ffn = (input: Mat, inter: string, output: string) =>
    refLayerNorm(
      add(
        refLinear(
          refLinear(input, w, `${inter}.dense`).map((r) => r.map(refGelu)),
          w,
          `${output}.dense`,
        ),
        input,
      ),
      w,
      `${output}.LayerNorm`,
      eps,
    );
  for (let l = 0; l < config.num_hidden_layers; l++) {
    const pre = `${prefix}.encoder.layer.${l}`;
    const attended = block(x, `${pre}.attention`, x, additive);
    let queries = attended.slice(0, queryLength);
    if (l % config.cross_attention_frequency === 0 && queryLength > 0) queries = block(queries, `${pre}.crossattention`, image!);
    const next = queryLength > 0 ? ffn(queries, `${pre}.intermediate_query`, `${pre}.output_query`) : [];
    const text = attended.slice(queryLength);
    x = text.length > 0 ? [...next, ...ffn(text, `${pre}.intermediate`, `${pre}.output`)] : next;
    out.push(x);
  }
  return out;
}
