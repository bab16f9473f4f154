// An independent float64 CLIP forward pass in plain loops, written from the formulas of
// transformers/models/clip/modeling_clip.py (CLIPModel.forward and the modules it calls), used by
// the parity tests as the expected values. It shares no code with the tfjs implementation.
import type { ClipConfig, ClipVisionConfig } from '../config';

type Vec = number[];
type Mat = number[][];
/** Parameter name → nested number arrays, as `tensor.arraySync()` gives them. */
export type RefWeights = ReadonlyMap<string, unknown>;

const w = (p: RefWeights, name: string) => {
  if (!p.has(name)) throw new Error(`reference: no weight ${name}`);
  return p.get(name) as never;
};
const linear = (x: Mat, weight: Mat, bias?: Vec): Mat =>
  x.map((row) => weight.map((wr, o) => wr.reduce((s, wi, i) => s + wi * row[i]!, bias ? bias[o]! : 0)));
const add = (a: Mat, b: Mat): Mat => a.map((r, i) => r.map((v, j) => v + b[i]![j]!));

function layerNorm(x: Mat, weight: Vec, bias: Vec, eps: number): Mat {
  return x.map((r) => {
    const mean = r.reduce((s, v) => s + v, 0) / r.length;
    const variance = r.reduce((s, v) => s + (v - mean) ** 2, 0) / r.length; // biased, as torch
    return r.map((v, i) => ((v - mean) / Math.sqrt(variance + eps)) * weight[i]! + bias[i]!);
  });
}

/** erf by its Maclaurin series (|x| < 3) or continued fraction: ~1e-15 accurate. */
export function erf(x: number): number {
  const a = Math.abs(x);
  if (a < 3) {
    let term = a;
    let sum = a;
    for (let n = 1; n < 200; n++) {
      term *= (-a * a) / n;
      sum += term / (2 * n + 1);
      if (Math.abs(term) < 1e-17) break;
    }
    return Math.sign(x) * ((2 / Math.sqrt(Math.PI)) * sum);
  }
  let f = 0;
  for (let n = 60; n >= 1; n--) f = n / 2 / (a + f);
  return Math.sign(x) * (1 - Math.exp(-a * a) / Math.sqrt(Math.PI) / (a + f));
}

/** ACT2FN entries the tests use. */
export const REF_ACTIVATIONS: Record<string, (x: number) => number> = {
  quick_gelu: (x) => x / (1 + Math.exp(-1.702 * x)),
  gelu: (x) => 0.5 * x * (1 + erf(x / Math.SQRT2)),
};

function attention(x: Mat, p: RefWeights, prefix: string, heads: number, blocked: (t: number, s: number) => boolean): Mat {
  const proj = (n: string) => linear(x, w(p, `${prefix}.${n}.weight`), w(p, `${prefix}.${n}.bias`));
  const [q, k, v] = [proj('q_proj'), proj('k_proj'), proj('v_proj')];
  const dim = x[0]!.length;
  const hd = dim / heads;
  const out: Mat = x.map(() => new Array(dim).fill(0));
  for (let h = 0; h < heads; h++) {
    for (let t = 0; t < x.length; t++) {
      const scores = x.map((_, s) => {
        if (blocked(t, s)) return -Infinity;
        let dot = 0;
        for (let d = h * hd; d < (h + 1) * hd; d++) dot += q[t]![d]! * k[s]![d]!;
        return dot * hd ** -0.5;
      });
      const max = Math.max(...scores);
      // A row with every key blocked: HF's scores all round to float32's min, so softmax is uniform.
      const e = max === -Infinity ? scores.map(() => 1) : scores.map((sc) => (sc === -Infinity ? 0 : Math.exp(sc - max)));
      const z = e.reduce((a, b) => a + b, 0);
      for (let s = 0; s < x.length; s++) for (let d = h * hd; d < (h + 1) * hd; d++) out[t]![d]! += (e[s]! / z) * v[s]![d]!;
    }
  }
  return linear(out, w(p, `${prefix}.out_proj.weight`), w(p, `${prefix}.out_proj.bias`));
}

function encoder(
  x: Mat,
  p: RefWeights,
  prefix: string,
  tower: ClipConfig['text_config'] | ClipConfig['vision_config'],
  blocked: (t: number, s: number) => boolean,
): Mat {
  let h = x;
  const act = REF_ACTIVATIONS[tower.hidden_act]!;
  for (let i = 0; i < tower.num_hidden_layers; i++) {
    const l = `${prefix}.encoder.layers.${i}`;
    const ln = (n: string, y: Mat) => layerNorm(y, w(p, `${l}.${n}.weight`), w(p, `${l}.${n}.bias`), tower.layer_norm_eps);
    h = add(h, attention(ln('layer_norm1', h), p, `${l}.self_attn`, tower.num_attention_heads, blocked));
    const mid = linear(ln('layer_norm2', h), w(p, `${l}.mlp.fc1.weight`), w(p, `${l}.mlp.fc1.bias`)).map((r) => r.map(act));
    h = add(h, linear(mid, w(p, `${l}.mlp.fc2.weight`), w(p, `${l}.mlp.fc2.bias`)));
  }
  return h;
}

/**
 * CLIPTextTransformer for one sequence: last hidden state and the pooled vector. `prompt` [P][D]
 * are virtual tokens put in front after the position embeddings (the PromptInjectionPoint rule):
 * always attended, the hidden state gains P leading rows and the pooled position moves by P.
 */
export function refText(p: RefWeights, config: ClipConfig, ids: number[], mask?: number[], prompt: Mat = []): { hidden: Mat; pooled: Vec } {
  const c = config.text_config;
  const tok: Mat = w(p, 'text_model.embeddings.token_embedding.weight');
  const pos: Mat = w(p, 'text_model.embeddings.position_embedding.weight');
  const x = [...prompt, ...ids.map((id, t) => tok[id]!.map((v, d) => v + pos[t]![d]!))];
  const offset = prompt.length;
  const blocked = (t: number, s: number) => s > t || (mask !== undefined && s >= offset && mask[s - offset] === 0);
  const hidden = layerNorm(
    encoder(x, p, 'text_model', c, blocked),
    w(p, 'text_model.final_layer_norm.weight'),
    w(p, 'text_model.final_layer_norm.bias'),
    c.layer_norm_eps,
  );
  let at = 0;
  if (c.eos_token_id === 2) ids.forEach((id, t) => (id > ids[at]! ? (at = t) : 0));
  else at = Math.max(0, ids.indexOf(c.eos_token_id));
  return { hidden, pooled: hidden[offset + at]! };
}

/** CLIPVisionEmbeddings → pre_layrnorm for one image [C][H][W]: the hidden state of index 0. */
function visionInput(p: RefWeights, c: ClipVisionConfig, image: number[][][], prefix: string): Mat {
  const kernel: number[][][][] = w(p, `${prefix}.embeddings.patch_embedding.weight`);
  const grid = Math.floor(c.image_size / c.patch_size);
  const tokens: Mat = [w(p, `${prefix}.embeddings.class_embedding`)];
  for (let gy = 0; gy < grid; gy++) {
    for (let gx = 0; gx < grid; gx++) {
      tokens.push(
        kernel.map((k) => {
          let s = 0;
          for (let ch = 0; ch < c.num_channels; ch++)
            for (let i = 0; i < c.patch_size; i++)
              for (let j = 0; j < c.patch_size; j++) s += k[ch]![i]![j]! * image[ch]![gy * c.patch_size + i]![gx * c.patch_size + j]!;
          return s;
        }),
      );
    }
  }
  const pos: Mat = w(p, `${prefix}.embeddings.position_embedding.weight`);
  return layerNorm(add(tokens, pos), w(p, `${prefix}.pre_layrnorm.weight`), w(p, `${prefix}.pre_layrnorm.bias`), c.layer_norm_eps);
}

/** CLIPVisionTransformer for one image [C][H][W]: post_layernorm(class token). */
export function refImage(p: RefWeights, config: ClipConfig, image: number[][][]): Vec {
  const c = config.vision_config;
  const ln = (n: string, y: Mat) => layerNorm(y, w(p, `vision_model.${n}.weight`), w(p, `vision_model.${n}.bias`), c.layer_norm_eps);
  const hidden = encoder(visionInput(p, c, image, 'vision_model'), p, 'vision_model', c, () => false);
  return ln('post_layernorm', [hidden[0]!])[0]!;
}

/**
 * CLIPVisionTransformer's output_hidden_states for one image: numLayers + 1 states [N][D], index 0
 * after pre_layrnorm, index k after encoder layer k, no post_layernorm. `prefix` is where the
 * tower's weights live ('vision_model' in CLIPModel and CLIPVisionModel).
 */
export function refVisionHiddenStates(p: RefWeights, c: ClipVisionConfig, image: number[][][], prefix = 'vision_model'): Mat[] {
  const input = visionInput(p, c, image, prefix);
  return Array.from({ length: c.num_hidden_layers + 1 }, (_, k) =>
    k === 0 ? input : encoder(input, p, prefix, { ...c, num_hidden_layers: k }, () => false),
  );
}

const normalize = (v: Vec) => {
  const n = Math.sqrt(v.reduce((s, x) => s + x * x, 0));
  return v.map((x) => x / n);
};

/** CLIPModel.forward: normalised embeds and logits_per_text [texts][images]. */
export function refClip(p: RefWeights, config: ClipConfig, images: number[][][][], ids: number[][], masks?: number[][]) {
  const imageEmbeds = images.map((im) => normalize(linear([refImage(p, config, im)], w(p, 'visual_projection.weight'))[0]!));
  const textEmbeds = ids.map((row, b) =>
    normalize(linear([refText(p, config, row, masks?.[b]).pooled], w(p, 'text_projection.weight'))[0]!),
  );
  const scale = Math.exp(w(p, 'logit_scale') as number);
  const logitsPerText = textEmbeds.map((t) => imageEmbeds.map((im) => scale * t.reduce((s, v, d) => s + v * im[d]!, 0)));
  return { imageEmbeds, textEmbeds, logitsPerText };
}
