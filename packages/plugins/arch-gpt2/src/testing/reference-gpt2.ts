// An independent GPT-2 forward in plain JavaScript (loops over arrays, no tensors), written from
// the formulas of transformers' models/gpt2/modeling_gpt2.py and pytorch_utils.py (Conv1D is
// x · W + b with W [in, out]); tests compare the module tree's logits, loss and decoding with it.

/** A stored tensor: row-major values and shape, HF state-dict name as the key. */
export interface PlainTensor {
  readonly shape: readonly number[];
  readonly data: Float32Array;
}

/** The GPT2Config fields the reference reads. */
export interface ReferenceGpt2Config {
  readonly n_embd: number;
  readonly n_head: number;
  readonly n_layer: number;
  readonly n_inner?: number | null;
  readonly layer_norm_epsilon: number;
  readonly scale_attn_weights: boolean;
  readonly scale_attn_by_inverse_layer_idx: boolean;
  readonly tie_word_embeddings: boolean;
}

/** Inputs of one reference forward: rows of ids, and optionally a 0/1 mask and positions of the same shape. */
export interface ReferenceInputs {
  readonly ids: readonly (readonly number[])[];
  readonly attentionMask?: readonly (readonly number[])[];
  readonly positionIds?: readonly (readonly number[])[];
}

type Vec = Float64Array;

const geluNew = (x: number): number => 0.5 * x * (1 + Math.tanh(Math.sqrt(2 / Math.PI) * (x + 0.044715 * x * x * x)));

function layerNorm(x: Vec, weight: PlainTensor, bias: PlainTensor, eps: number): Vec {
  let mean = 0;
  for (const v of x) mean += v;
  mean /= x.length;
  let variance = 0;
  for (const v of x) variance += (v - mean) * (v - mean);
  variance /= x.length;
  const out = new Float64Array(x.length);
  for (let i = 0; i < x.length; i++) out[i] = ((x[i]! - mean) / Math.sqrt(variance + eps)) * weight.data[i]! + bias.data[i]!;
  return out;
}

/** Conv1D: y[o] = Σ_i x[i] · W[i, o] + b[o] with W stored [in, out]. */
export function conv1dPlain(x: ArrayLike<number>, weight: PlainTensor, bias: PlainTensor): Vec {
  const [nIn, nOut] = weight.shape as [number, number];
  const out = new Float64Array(nOut);
  for (let o = 0; o < nOut; o++) {
    let sum = bias.data[o]!;
    for (let i = 0; i < nIn; i++) sum += x[i]! * weight.data[i * nOut + o]!;
    out[o] = sum;
  }
  return out;
}

/**
 * Logits [B][T][vocab] of GPT2LMHeadModel (eval mode). Positions default to 0 … T-1 as GPT2Model
 * does; a query attends to keys at or before it whose mask is 1 (a query with none gets zeros).
 *
 * @example
 * const logits = referenceGpt2Logits(config, tensors, { ids: [[1, 2, 3]] });
 */
export function referenceGpt2Logits(
  config: ReferenceGpt2Config,
  tensors: ReadonlyMap<string, PlainTensor>,
  inputs: ReferenceInputs,
): number[][][] {
  const get = (name: string): PlainTensor => {
    const t = tensors.get(name) ?? tensors.get(`transformer.${name}`);
    if (!t) throw new Error(`reference GPT-2: no tensor ${name}`);
    return t;
  };
  const d = config.n_embd;
  const heads = config.n_head;
  const hd = d / heads;
  const wte = get('wte.weight');
  const wpe = get('wpe.weight');
  const vocab = wte.shape[0]!;
  const head = config.tie_word_embeddings ? wte : tensors.get('lm_head.weight')!;
  return inputs.ids.map((row, b) => {
    const mask = inputs.attentionMask?.[b] ?? row.map(() => 1);
    const positions = inputs.positionIds?.[b] ?? row.map((_, t) => t);
    let hidden: Vec[] = row.map((id, t) => {
      const v = new Float64Array(d);
      for (let i = 0; i < d; i++) v[i] = wte.data[id * d + i]! + wpe.data[positions[t]! * d + i]!;
      return v;
    });
    for (let layer = 0; layer < config.n_layer; layer++) {
      const p = `h.${layer}.`;
      const qkv = hidden.map((x) =>
        conv1dPlain(
          layerNorm(x, get(`${p}ln_1.weight`), get(`${p}ln_1.bias`), config.layer_norm_epsilon),
          get(`${p}attn.c_attn.weight`),
          get(`${p}attn.c_attn.bias`),
        ),
      );
      let scale = config.scale_attn_weights ? 1 / Math.sqrt(hd) : 1;
      if (config.scale_attn_by_inverse_layer_idx) scale /= layer + 1;
      const merged = qkv.map((_, t) => {
        const out = new Float64Array(d);
        for (let h = 0; h < heads; h++) {
          const allowed: number[] = [];
          for (let s = 0; s <= t; s++) if (mask[s] === 1) allowed.push(s);
          if (allowed.length === 0) continue;
          const scores = allowed.map((s) => {
            let dot = 0;
            for (let i = 0; i < hd; i++) dot += qkv[t]![h * hd + i]! * qkv[s]![d + h * hd + i]!;
            return dot * scale;
          });
          const max = Math.max(...scores);
          const exps = scores.map((x) => Math.exp(x - max));
          const total = exps.reduce((a, c) => a + c, 0);
          allowed.forEach((s, j) => {
            for (let i = 0; i < hd; i++) out[h * hd + i] += (exps[j]! / total) * qkv[s]![2 * d + h * hd + i]!;
          });
        }
        return out;
      });
      hidden = hidden.map((x, t) => {
        const attn = conv1dPlain(merged[t]!, get(`${p}attn.c_proj.weight`), get(`${p}attn.c_proj.bias`));
        const mid = x.map((v, i) => v + attn[i]!);
        const ln2 = layerNorm(mid, get(`${p}ln_2.weight`), get(`${p}ln_2.bias`), config.layer_norm_epsilon);
        const inner = conv1dPlain(ln2, get(`${p}mlp.c_fc.weight`), get(`${p}mlp.c_fc.bias`)).map(geluNew);
        const mlp = conv1dPlain(inner, get(`${p}mlp.c_proj.weight`), get(`${p}mlp.c_proj.bias`));
        return mid.map((v, i) => v + mlp[i]!);
      });
    }
    return hidden.map((x) => {
      const final = layerNorm(x, get('ln_f.weight'), get('ln_f.bias'), config.layer_norm_epsilon);
      const logits: number[] = [];
      for (let v = 0; v < vocab; v++) {
        let sum = 0;
        for (let i = 0; i < d; i++) sum += final[i]! * head.data[v * d + i]!;
        logits.push(sum);
      }
      return logits;
    });
  });
}

/**
 * HF ForCausalLMLoss by hand: mean over t of −log softmax(logits[t])[labels[t + 1]], labels −100 skipped.
 *
 * @example
 * referenceCausalLmLoss(logits, [[5, 6, -100]]);
 */
export function referenceCausalLmLoss(logits: number[][][], labels: readonly (readonly number[])[]): number {
  let sum = 0;
  let count = 0;
  logits.forEach((rows, b) => {
    for (let t = 0; t + 1 < rows.length; t++) {
      const target = labels[b]![t + 1]!;
      if (target === -100) continue;
      const row = rows[t]!;
      const max = Math.max(...row);
      const logZ = max + Math.log(row.reduce((a, v) => a + Math.exp(v - max), 0));
      sum += logZ - row[target]!;
      count += 1;
    }
  });
  return sum / count;
}

/**
 * Greedy decoding by recomputing the whole sequence each step: the argmax of the last position's
 * logits, `steps` times (stopping after `eos` when given).
 *
 * @example
 * referenceGreedy(config, tensors, [1, 2], 5); // five new ids
 */
export function referenceGreedy(
  config: ReferenceGpt2Config,
  tensors: ReadonlyMap<string, PlainTensor>,
  prompt: readonly number[],
  steps: number,
  eos?: number,
): number[] {
  const ids = [...prompt];
  const out: number[] = [];
  for (let s = 0; s < steps; s++) {
    const logits = referenceGpt2Logits(config, tensors, { ids: [ids] })[0]!;
    const last = logits[logits.length - 1]!;
    let best = 0;
    for (let v = 1; v < last.length; v++) if (last[v]! > last[best]!) best = v;
    out.push(best);
    ids.push(best);
    if (best === eos) break;
  }
  return out;
}
