// An independent float64 Llama forward pass in plain loops over arrays, written from the formulas of
// transformers src/transformers/models/llama/modeling_llama.py (LlamaRMSNorm, LlamaRotaryEmbedding +
// rotate_half, repeat_kv, eager_attention_forward, LlamaMLP, LlamaForCausalLM) and the position ids
// generate() makes (generation/utils.py). The parity tests use it as the expected values; it shares
// no code with the tfjs implementation.
import type { LlamaConfig } from '../config';

type Vec = number[];
type Mat = number[][];
/** Parameter name → nested number arrays, as `tensor.arraySync()` gives them. */
export type RefWeights = ReadonlyMap<string, unknown>;

const get = <T>(p: RefWeights, name: string): T => {
  if (!p.has(name)) throw new Error(`reference: no weight ${name}`);
  return p.get(name) as T;
};
const opt = <T>(p: RefWeights, name: string): T | undefined => p.get(name) as T | undefined;
const linear = (x: Mat, weight: Mat, bias?: Vec): Mat =>
  x.map((row) => weight.map((wr, o) => wr.reduce((s, wi, i) => s + wi * row[i]!, bias ? bias[o]! : 0)));

/** x · rsqrt(mean(x²) + eps) · weight, per row. */
export function refRmsNorm(x: Mat, weight: Vec, eps: number): Mat {
  return x.map((r) => {
    const scale = 1 / Math.sqrt(r.reduce((s, v) => s + v * v, 0) / r.length + eps);
    return r.map((v, i) => v * scale * weight[i]!);
  });
}

/** One head's vector rotated by position `pos` with rotate_half: [x1, x2] → x·cos + [-x2, x1]·sin; linear rope scaling divides pos by factor. */
export function refRotate(x: Vec, pos: number, theta: number, factor = 1): Vec {
  const d = x.length;
  const half = d / 2;
  return x.map((v, j) => {
    const i = j % half;
    const angle = pos / factor / theta ** ((2 * i) / d);
    const rotated = j < half ? -x[j + half]! : x[j - half]!;
    return v * Math.cos(angle) + rotated * Math.sin(angle);
  });
}

const silu = (x: number): number => x / (1 + Math.exp(-x));

/** Positions as generate() makes them from a mask: cumsum(mask) - 1, padded places 1. */
export function refPositionsFromMask(mask: readonly number[]): number[] {
  let seen = 0;
  return mask.map((m) => {
    seen += m;
    return m === 0 ? 1 : seen - 1;
  });
}

/** Inputs of `refLlamaLogits` for one batch. */
export interface RefInputs {
  readonly inputIds: readonly (readonly number[])[];
  /** 1 real, 0 padding; default all ones. */
  readonly attentionMask?: readonly (readonly number[])[];
  /** Default: from the mask as generate() makes them, 0..T-1 without a mask. */
  readonly positionIds?: readonly (readonly number[])[];
}

/**
 * Logits [B][T][V] of LlamaForCausalLM. Rows of padded query positions attend to nothing and are
 * returned as NaN (transformers' values there are garbage nobody reads).
 *
 * @example
 * const logits = refLlamaLogits(weights, config, { inputIds: [[1, 5, 7]] });
 */
export function refLlamaLogits(p: RefWeights, config: LlamaConfig, inputs: RefInputs): number[][][] {
  const { num_attention_heads: heads, num_key_value_heads: kvHeads, head_dim: d, rms_norm_eps: eps, rope_theta: theta } = config;
  const groups = heads / kvHeads;
  const scaling = config.rope_scaling as { rope_type?: string; type?: string; factor?: number } | null;
  const factor = (scaling?.rope_type ?? scaling?.type) === 'linear' ? scaling!.factor! : 1;
  const embed = get<Mat>(p, 'model.embed_tokens.weight');
  const head = config.tie_word_embeddings ? embed : get<Mat>(p, 'lm_head.weight');
  return inputs.inputIds.map((ids, b) => {
    const mask = inputs.attentionMask?.[b] ?? ids.map(() => 1);
    const positions = inputs.positionIds?.[b] ?? (inputs.attentionMask ? refPositionsFromMask(mask) : ids.map((_, t) => t));
    let h: Mat = ids.map((id) => [...embed[id]!]);
    for (let layer = 0; layer < config.num_hidden_layers; layer++) {
      const at = (name: string) => `model.layers.${layer}.${name}`;
      const proj = (x: Mat, name: string, biasFlag: boolean) =>
        linear(x, get<Mat>(p, at(`${name}.weight`)), biasFlag ? get<Vec>(p, at(`${name}.bias`)) : undefined);
      const x = refRmsNorm(h, get<Vec>(p, at('input_layernorm.weight')), eps);
      const q = proj(x, 'self_attn.q_proj', config.attention_bias);
      const k = proj(x, 'self_attn.k_proj', config.attention_bias);
      const v = proj(x, 'self_attn.v_proj', config.attention_bias);
      const headOf = (m: Mat, t: number, hh: number) => m[t]!.slice(hh * d, (hh + 1) * d);
      const attn: Mat = ids.map(() => new Array(heads * d).fill(0));
      for (let hh = 0; hh < heads; hh++) {
        const g = Math.floor(hh / groups); // repeat_kv: query head hh reads key/value head floor(hh / n_rep)
        for (let t = 0; t < ids.length; t++) {
          const qt = refRotate(headOf(q, t, hh), positions[t]!, theta, factor);
          const scores = ids.map((_, s) => {
            if (s > t || mask[s] === 0) return -Infinity;
            const ks = refRotate(headOf(k, s, g), positions[s]!, theta, factor);
            return qt.reduce((acc, qi, i) => acc + qi * ks[i]!, 0) / Math.sqrt(d);
          });
          const top = Math.max(...scores);
          const weights = scores.map((s) => (top === -Infinity ? NaN : Math.exp(s - top)));
          const total = weights.reduce((a, c) => a + c, 0);
          for (let s = 0; s < ids.length; s++) {
            if (scores[s] === -Infinity && top !== -Infinity) continue;
            const vs = headOf(v, s, g);
            for (let i = 0; i < d; i++) attn[t]![hh * d + i]! += (weights[s]! / total) * vs[i]!;
          }
        }
      }
      const o = proj(attn, 'self_attn.o_proj', config.attention_bias);
      h = h.map((r, t) => r.map((val, i) => val + o[t]![i]!));
      const x2 = refRmsNorm(h, get<Vec>(p, at('post_attention_layernorm.weight')), eps);
      const gate = proj(x2, 'mlp.gate_proj', config.mlp_bias);
      const up = proj(x2, 'mlp.up_proj', config.mlp_bias);
      const down = proj(
        gate.map((r, t) => r.map((gv, i) => silu(gv) * up[t]![i]!)),
        'mlp.down_proj',
        config.mlp_bias,
      );
      h = h.map((r, t) => r.map((val, i) => val + down[t]![i]!));
    }
    const normed = refRmsNorm(h, get<Vec>(p, 'model.norm.weight'), eps);
    return linear(normed, head, opt<Vec>(p, 'lm_head.bias'));
  });
}

/** ForCausalLMLoss: mean over positions t with labels[t + 1] ≠ -100 of -log softmax(logits[t])[labels[t + 1]]. */
export function refCausalLmLoss(logits: number[][][], labels: readonly (readonly number[])[]): number {
  let sum = 0;
  let count = 0;
  logits.forEach((rows, b) => {
    for (let t = 0; t + 1 < rows.length; t++) {
      const target = labels[b]![t + 1]!;
      if (target === -100) continue;
      const row = rows[t]!;
      const top = Math.max(...row);
      const logZ = top + Math.log(row.reduce((s, v) => s + Math.exp(v - top), 0));
      sum += logZ - row[target]!;
      count++;
    }
  });
  return sum / count;
}

/**
 * Greedy decoding by recomputing the whole sequence each step (no cache): argmax of the last
 * position, rows done at an eos id are filled with `pad`, as generate()'s greedy loop does.
 */
export function refGreedy(
  p: RefWeights,
  config: LlamaConfig,
  prompts: RefInputs & { readonly attentionMask: readonly (readonly number[])[] },
  options: { maxNewTokens: number; eos: readonly number[]; pad: number },
): number[][] {
  const ids = prompts.inputIds.map((r) => [...r]);
  const mask = prompts.attentionMask.map((r) => [...r]);
  const out: number[][] = ids.map(() => []);
  const done = ids.map(() => false);
  for (let step = 0; step < options.maxNewTokens && done.some((x) => !x); step++) {
    const logits = refLlamaLogits(p, config, { inputIds: ids, attentionMask: mask });
    logits.forEach((rows, b) => {
      const last = rows[rows.length - 1]!;
      const next = done[b] ? options.pad : last.indexOf(Math.max(...last));
      out[b]!.push(next);
      ids[b]!.push(next);
      mask[b]!.push(1);
      if (options.eos.includes(next)) done[b] = true;
    });
  }
  return out;
}
