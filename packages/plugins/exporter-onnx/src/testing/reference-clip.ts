// A tiny CLIP for the exporter's own tests: seeded weights under transformers' CLIPModel
// state-dict names, and an independent float64 forward pass in plain loops written from the
// formulas of transformers/models/clip/modeling_clip.py (no tfjs, no ONNX). Tests only.
import type { ClipFields } from '../clip';
import type { Weight, WeightLookup } from '../onnx/layers';

export const TINY_CLIP: ClipFields = {
  projection_dim: 4,
  text_config: {
    hidden_size: 8,
    num_hidden_layers: 2,
    num_attention_heads: 2,
    hidden_act: 'quick_gelu',
    layer_norm_eps: 1e-5,
    max_position_embeddings: 6,
    eos_token_id: 11,
  },
  vision_config: {
    hidden_size: 8,
    num_hidden_layers: 1,
    num_attention_heads: 2,
    hidden_act: 'gelu',
    layer_norm_eps: 1e-5,
    image_size: 4,
    patch_size: 2,
    num_channels: 3,
  },
};
export const TINY_VOCAB = 12;

/** Seeded weights for `fields` (mulberry32), HF names and layouts ([out, in] Linears). */
export function tinyClipWeights(fields: ClipFields, seed = 1): Map<string, Weight> {
  let s = seed >>> 0;
  const rand = () => {
    s = (s + 0x6d2b79f5) >>> 0;
    let t = Math.imul(s ^ (s >>> 15), s | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296 - 0.5;
  };
  const w = new Map<string, Weight>();
  const put = (name: string, dims: number[], scale = 0.6, offset = 0) => {
    const n = dims.reduce((a, b) => a * b, 1);
    w.set(name, { dims, data: Float32Array.from({ length: n }, () => offset + scale * rand()) });
  };
  const tower = (prefix: string, t: ClipFields['text_config'] | ClipFields['vision_config'], inter: number) => {
    const d = t.hidden_size;
    for (let i = 0; i < t.num_hidden_layers; i++) {
      const p = `${prefix}.encoder.layers.${i}`;
      for (const proj of ['q_proj', 'k_proj', 'v_proj', 'out_proj']) {
        put(`${p}.self_attn.${proj}.weight`, [d, d]);
        put(`${p}.self_attn.${proj}.bias`, [d], 0.2);
      }
      for (const ln of ['layer_norm1', 'layer_norm2']) {
        put(`${p}.${ln}.weight`, [d], 0.4, 1);
        put(`${p}.${ln}.bias`, [d], 0.2);
      }
      put(`${p}.mlp.fc1.weight`, [inter, d]);
      put(`${p}.mlp.fc1.bias`, [inter], 0.2);
      put(`${p}.mlp.fc2.weight`, [d, inter]);
      put(`${p}.mlp.fc2.bias`, [d], 0.2);
    }
  };
  const t = fields.text_config;
  const v = fields.vision_config;
  put('text_model.embeddings.token_embedding.weight', [TINY_VOCAB, t.hidden_size], 2);
  put('text_model.embeddings.position_embedding.weight', [t.max_position_embeddings, t.hidden_size], 1);
  tower('text_model', t, 16);
  put('text_model.final_layer_norm.weight', [t.hidden_size], 0.4, 1);
  put('text_model.final_layer_norm.bias', [t.hidden_size], 0.2);
  const patches = (v.image_size / v.patch_size) ** 2;
  put('vision_model.embeddings.class_embedding', [v.hidden_size], 1);
  put('vision_model.embeddings.patch_embedding.weight', [v.hidden_size, v.num_channels, v.patch_size, v.patch_size]);
  put('vision_model.embeddings.position_embedding.weight', [patches + 1, v.hidden_size], 1);
  put('vision_model.pre_layrnorm.weight', [v.hidden_size], 0.4, 1);
  put('vision_model.pre_layrnorm.bias', [v.hidden_size], 0.2);
  tower('vision_model', v, 16);
  put('vision_model.post_layernorm.weight', [v.hidden_size], 0.4, 1);
  put('vision_model.post_layernorm.bias', [v.hidden_size], 0.2);
  put('visual_projection.weight', [fields.projection_dim, v.hidden_size]);
  put('text_projection.weight', [fields.projection_dim, t.hidden_size]);
  w.set('logit_scale', { dims: [], data: new Float32Array([2.6592]) });
  return w;
}

export const lookupOf =
  (weights: ReadonlyMap<string, Weight>): WeightLookup =>
  (name) => {
    const w = weights.get(name);
    if (!w) throw new Error(`reference: no weight ${name}`);
    return w;
  };

type Mat = number[][];
const erf = (x: number): number => {
  // Maclaurin series; |x| stays small in these tiny towers (checked below).
  if (Math.abs(x) > 4) return Math.sign(x);
  let term = x;
  let sum = x;
  for (let n = 1; n < 80; n++) {
    term *= (-x * x) / n;
    sum += term / (2 * n + 1);
  }
  return (2 / Math.sqrt(Math.PI)) * sum;
};
const ACT: Record<string, (x: number) => number> = {
  quick_gelu: (x) => x / (1 + Math.exp(-1.702 * x)),
  gelu: (x) => 0.5 * x * (1 + erf(x / Math.SQRT2)),
};

function rows(w: Weight): Mat {
  const [r, c] = w.dims as [number, number];
  return Array.from({ length: r }, (_, i) => Array.from(w.data.subarray(i * c, (i + 1) * c)));
}
const linear = (x: Mat, W: Weight, b?: Weight): Mat =>
  x.map((row) => rows(W).map((wr, o) => wr.reduce((s, wi, i) => s + wi * row[i]!, b ? b.data[o]! : 0)));
function layerNorm(x: Mat, W: Weight, b: Weight, eps: number): Mat {
  return x.map((r) => {
    const mean = r.reduce((s, v) => s + v, 0) / r.length;
    const variance = r.reduce((s, v) => s + (v - mean) ** 2, 0) / r.length;
    return r.map((v, i) => ((v - mean) / Math.sqrt(variance + eps)) * W.data[i]! + b.data[i]!);
  });
}

function layer(
  h: Mat,
  w: WeightLookup,
  p: string,
  t: ClipFields['text_config'] | ClipFields['vision_config'],
  visible: (q: number, k: number) => boolean,
): Mat {
  const x = layerNorm(h, w(`${p}.layer_norm1.weight`), w(`${p}.layer_norm1.bias`), t.layer_norm_eps);
  const proj = (n: string) => linear(x, w(`${p}.self_attn.${n}.weight`), w(`${p}.self_attn.${n}.bias`));
  const [q, k, v] = [proj('q_proj'), proj('k_proj'), proj('v_proj')];
  const hd = t.hidden_size / t.num_attention_heads;
  const context: Mat = x.map(() => new Array<number>(t.hidden_size).fill(0));
  for (let head = 0; head < t.num_attention_heads; head++) {
    const o = head * hd;
    for (let i = 0; i < x.length; i++) {
      const keys = x.map((_, j) => j).filter((j) => visible(i, j));
      const scores = keys.map((j) => {
        let s = 0;
        for (let c = 0; c < hd; c++) s += q[i]![o + c]! * k[j]![o + c]!;
        return s / Math.sqrt(hd);
      });
      const top = Math.max(...scores);
      const e = scores.map((s) => Math.exp(s - top));
      const z = e.reduce((a, b) => a + b, 0);
      keys.forEach((j, n) => {
        for (let c = 0; c < hd; c++) context[i]![o + c]! += (e[n]! / z) * v[j]![o + c]!;
      });
    }
  }
  const attended = linear(context, w(`${p}.self_attn.out_proj.weight`), w(`${p}.self_attn.out_proj.bias`)).map((r, i) =>
    r.map((val, c) => val + h[i]![c]!),
  );
  const y = layerNorm(attended, w(`${p}.layer_norm2.weight`), w(`${p}.layer_norm2.bias`), t.layer_norm_eps);
  const act = ACT[t.hidden_act]!;
  const mid = linear(y, w(`${p}.mlp.fc1.weight`), w(`${p}.mlp.fc1.bias`)).map((r) => r.map(act));
  return linear(mid, w(`${p}.mlp.fc2.weight`), w(`${p}.mlp.fc2.bias`)).map((r, i) => r.map((val, c) => val + attended[i]![c]!));
}

/** text_projection(pooled) for one row of ids with its mask (unnormalised). */
export function referenceTextFeatures(fields: ClipFields, w: WeightLookup, ids: number[], mask: number[]): number[] {
  const t = fields.text_config;
  const tok = rows(w('text_model.embeddings.token_embedding.weight'));
  const pos = rows(w('text_model.embeddings.position_embedding.weight'));
  let h: Mat = ids.map((id, i) => tok[id]!.map((v, c) => v + pos[i]![c]!));
  for (let l = 0; l < t.num_hidden_layers; l++) h = layer(h, w, `text_model.encoder.layers.${l}`, t, (q, k) => k <= q && mask[k] === 1);
  h = layerNorm(h, w('text_model.final_layer_norm.weight'), w('text_model.final_layer_norm.bias'), t.layer_norm_eps);
  let at = 0;
  if (t.eos_token_id === 2) ids.forEach((id, i) => (id > ids[at]! ? (at = i) : 0));
  else at = Math.max(0, ids.indexOf(t.eos_token_id));
  return linear([h[at]!], w('text_projection.weight'))[0]!;
}

/** visual_projection(post_layernorm(class token)) for one image [C, H, W] flat (unnormalised). */
export function referenceImageFeatures(fields: ClipFields, w: WeightLookup, image: Float32Array): number[] {
  const v = fields.vision_config;
  const { image_size: size, patch_size: p, num_channels: channels, hidden_size: d } = v;
  const grid = size / p;
  const conv = w('vision_model.embeddings.patch_embedding.weight');
  const tokens: Mat = [Array.from(w('vision_model.embeddings.class_embedding').data)];
  for (let gi = 0; gi < grid; gi++) {
    for (let gj = 0; gj < grid; gj++) {
      tokens.push(
        Array.from({ length: d }, (_, o) => {
          let s = 0;
          for (let c = 0; c < channels; c++)
            for (let y = 0; y < p; y++)
              for (let x = 0; x < p; x++)
                s += conv.data[((o * channels + c) * p + y) * p + x]! * image[(c * size + gi * p + y) * size + gj * p + x]!;
          return s;
        }),
      );
    }
  }
  const pos = rows(w('vision_model.embeddings.position_embedding.weight'));
  let h = tokens.map((r, i) => r.map((val, c) => val + pos[i]![c]!));
  h = layerNorm(h, w('vision_model.pre_layrnorm.weight'), w('vision_model.pre_layrnorm.bias'), v.layer_norm_eps);
  for (let l = 0; l < v.num_hidden_layers; l++) h = layer(h, w, `vision_model.encoder.layers.${l}`, v, () => true);
  const pooled = layerNorm([h[0]!], w('vision_model.post_layernorm.weight'), w('vision_model.post_layernorm.bias'), v.layer_norm_eps);
  return linear(pooled, w('visual_projection.weight'))[0]!;
}

export const normalize = (x: number[]): number[] => {
  const n = Math.sqrt(x.reduce((s, v) => s + v * v, 0));
  return x.map((v) => v / n);
};

/** CLIPModel.forward: normalised embeds and logits_per_text = exp(logit_scale)·T·Iᵀ. */
export function referenceClip(
  fields: ClipFields,
  w: WeightLookup,
  ids: number[][],
  mask: number[][],
  images: Float32Array[],
): { textEmbeds: number[][]; imageEmbeds: number[][]; logitsPerText: number[][]; textFeatures: number[][]; imageFeatures: number[][] } {
  const textFeatures = ids.map((row, i) => referenceTextFeatures(fields, w, row, mask[i]!));
  const imageFeatures = images.map((img) => referenceImageFeatures(fields, w, img));
  const textEmbeds = textFeatures.map(normalize);
  const imageEmbeds = imageFeatures.map(normalize);
  const scale = Math.exp(w('logit_scale').data[0]!);
  const logitsPerText = textEmbeds.map((t) => imageEmbeds.map((im) => scale * t.reduce((s, v, c) => s + v * im[c]!, 0)));
  return { textEmbeds, imageEmbeds, logitsPerText, textFeatures, imageFeatures };
}
