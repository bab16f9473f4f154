// An independent OPT forward for tests: plain loops over number arrays in float64, written from the
// formulas of transformers' models/opt/modeling_opt.py (OPTLearnedPositionalEmbedding, OPTAttention,
// OPTDecoderLayer, OPTDecoder, OPTForCausalLM), sharing no code with the tfjs modules it checks.

/** A tensor as plain numbers, row-major. */
export interface PlainTensor {
  readonly shape: readonly number[];
  readonly data: ArrayLike<number>;
}

/** The OPTConfig fields the forward reads. */
export interface ReferenceOptConfig {
  readonly hidden_size: number;
  readonly num_hidden_layers: number;
  readonly num_attention_heads: number;
  readonly word_embed_proj_dim: number;
  readonly do_layer_norm_before: boolean;
  readonly _remove_final_layer_norm?: boolean;
  readonly tie_word_embeddings: boolean;
}

type Vec = number[];

/** y = W x (+ b) with W [out, in] as PyTorch stores it. */
function linear(w: PlainTensor, b: PlainTensor | undefined, x: Vec): Vec {
  const [outDim, inDim] = w.shape as [number, number];
  const y: Vec = new Array<number>(outDim).fill(0);
  for (let o = 0; o < outDim; o++) {
    let s = b ? b.data[o]! : 0;
    for (let i = 0; i < inDim; i++) s += w.data[o * inDim + i]! * x[i]!;
    y[o] = s;
  }
  return y;
}

/** torch.nn.LayerNorm over the vector, eps 1e-5 (OPT passes none), affine when the weights exist. */
function layerNorm(x: Vec, w: PlainTensor | undefined, b: PlainTensor | undefined): Vec {
  const n = x.length;
  const mean = x.reduce((a, v) => a + v, 0) / n;
  const variance = x.reduce((a, v) => a + (v - mean) ** 2, 0) / n;
  const inv = 1 / Math.sqrt(variance + 1e-5);
  return x.map((v, i) => (v - mean) * inv * (w ? w.data[i]! : 1) + (b ? b.data[i]! : 0));
}

const row = (t: PlainTensor, r: number): Vec => {
  const width = t.shape[1]!;
  return Array.from({ length: width }, (_, i) => t.data[r * width + i]!);
};

/**
 * Logits [B][T][V] of OPTForCausalLM for ids [B][T] with a 0/1 mask [B][T] (all ones when left out),
 * positions from the mask as OPTDecoder.forward makes them (cumsum(mask)·mask − 1, then + 2). A query
 * whose keys are all masked (a left pad) attends uniformly to every key, as an additive mask of
 * float32's minimum leaves it in HF's eager attention.
 *
 * @example
 * const logits = referenceOptLogits(config, weights, [[2, 10, 11]]);
 */
export function referenceOptLogits(
  config: ReferenceOptConfig,
  weights: ReadonlyMap<string, PlainTensor>,
  ids: readonly (readonly number[])[],
  mask?: readonly (readonly number[])[],
): number[][][] {
  const w = (name: string): PlainTensor => {
    const t = weights.get(name);
    if (!t) throw new Error(`reference OPT: no tensor ${name}`);
    return t;
  };
  const opt = (name: string): PlainTensor | undefined => weights.get(name);
  const d = config.hidden_size;
  const heads = config.num_attention_heads;
  const hd = d / heads;
  const project = config.word_embed_proj_dim !== d;
  return ids.map((tokens, b) => {
    const m = mask?.[b] ?? tokens.map(() => 1);
    let running = 0;
    const positions = m.map((v) => {
      running += v;
      return running * v - 1;
    });
    let h: Vec[] = tokens.map((id, t) => {
      let x = row(w('model.decoder.embed_tokens.weight'), id);
      if (project) x = linear(w('model.decoder.project_in.weight'), undefined, x);
      const p = row(w('model.decoder.embed_positions.weight'), positions[t]! + 2);
      return x.map((v, i) => v + p[i]!);
    });
    for (let l = 0; l < config.num_hidden_layers; l++) {
      const pre = `model.decoder.layers.${l}`;
      const ln = (name: string, x: Vec) => layerNorm(x, opt(`${pre}.${name}.weight`), opt(`${pre}.${name}.bias`));
      const lin = (name: string, x: Vec) => linear(w(`${pre}.${name}.weight`), opt(`${pre}.${name}.bias`), x);
      // Attention block.
      const attnIn = config.do_layer_norm_before ? h.map((x) => ln('self_attn_layer_norm', x)) : h;
      const q = attnIn.map((x) => lin('self_attn.q_proj', x).map((v) => v * hd ** -0.5));
      const k = attnIn.map((x) => lin('self_attn.k_proj', x));
      const v = attnIn.map((x) => lin('self_attn.v_proj', x));
      const attended = q.map((qt, t) => {
        const out: Vec = new Array<number>(d).fill(0);
        for (let head = 0; head < heads; head++) {
          const allowed = tokens.map((_, s) => s <= t && m[s] === 1);
          const anyAllowed = allowed.some(Boolean);
          const scores = tokens.map((_, s) => {
            let dot = 0;
            for (let i = 0; i < hd; i++) dot += qt[head * hd + i]! * k[s]![head * hd + i]!;
            return dot;
          });
          const keep = tokens.map((_, s) => (anyAllowed ? allowed[s]! : true));
          const top = Math.max(...scores.filter((_, s) => keep[s]));
          const e = scores.map((sc, s) => (keep[s] ? (anyAllowed ? Math.exp(sc - top) : 1) : 0));
          const z = e.reduce((a, x) => a + x, 0);
          for (let s = 0; s < tokens.length; s++) {
            for (let i = 0; i < hd; i++) out[head * hd + i]! += (e[s]! / z) * v[s]![head * hd + i]!;
          }
        }
        return lin('self_attn.out_proj', out);
      });
      h = h.map((x, t) => x.map((val, i) => val + attended[t]![i]!));
      if (!config.do_layer_norm_before) h = h.map((x) => ln('self_attn_layer_norm', x));
      // MLP block.
      const mlpIn = config.do_layer_norm_before ? h.map((x) => ln('final_layer_norm', x)) : h;
      const mlp = mlpIn.map((x) =>
        lin(
          'fc2',
          lin('fc1', x).map((val) => Math.max(0, val)),
        ),
      );
      h = h.map((x, t) => x.map((val, i) => val + mlp[t]![i]!));
      if (!config.do_layer_norm_before) h = h.map((x) => ln('final_layer_norm', x));
    }
    if (config.do_layer_norm_before && !config._remove_final_layer_norm) {
      h = h.map((x) => layerNorm(x, opt('model.decoder.final_layer_norm.weight'), opt('model.decoder.final_layer_norm.bias')));
    }
    if (project) h = h.map((x) => linear(w('model.decoder.project_out.weight'), undefined, x));
    const head = config.tie_word_embeddings ? w('model.decoder.embed_tokens.weight') : w('lm_head.weight');
    return h.map((x) => linear(head, undefined, x));
  });
}

/**
 * HF's ForCausalLM loss from logits [B][T][V] and labels [B][T]: position t predicts labels[t + 1];
 * -100 is ignored; the mean over the rest (or the sum / numItemsInBatch).
 */
export function referenceCausalLmLoss(logits: number[][][], labels: readonly (readonly number[])[], numItemsInBatch?: number): number {
  let sum = 0;
  let count = 0;
  logits.forEach((rows, b) => {
    for (let t = 0; t + 1 < rows.length; t++) {
      const target = labels[b]![t + 1]!;
      if (target === -100) continue;
      const top = Math.max(...rows[t]!);
      const lse = top + Math.log(rows[t]!.reduce((a, v) => a + Math.exp(v - top), 0));
      sum += lse - rows[t]![target]!;
      count += 1;
    }
  });
  return sum / (numItemsInBatch ?? count);
}

/**
 * Greedy decoding by full recomputation with the reference forward: per row, the argmax of the last
 * position's logits appended until `maxNewTokens` or `eosTokenId` (included; the row then stops, so rows
 * come back unpadded). Rows may be left-padded (mask 0 before the prompt).
 */
export function referenceGreedy(
  config: ReferenceOptConfig,
  weights: ReadonlyMap<string, PlainTensor>,
  ids: readonly (readonly number[])[],
  mask: readonly (readonly number[])[],
  options: { maxNewTokens: number; eosTokenId?: number },
): number[][] {
  return ids.map((prompt, b) => {
    const seq = [...prompt];
    const m = [...mask[b]!];
    const out: number[] = [];
    while (out.length < options.maxNewTokens) {
      const [rows] = referenceOptLogits(config, weights, [seq], [m]);
      const last = rows![rows!.length - 1]!;
      const next = last.indexOf(Math.max(...last));
      out.push(next);
      seq.push(next);
      m.push(1);
      if (next === options.eosTokenId) break;
    }
    return out;
  });
}

/** Σ log softmax(logits)[token] of `tokens` generated after `prompt` (mask 0 on left pads), by the reference forward. */
export function referenceLogProb(
  config: ReferenceOptConfig,
  weights: ReadonlyMap<string, PlainTensor>,
  prompt: readonly number[],
  mask: readonly number[],
  tokens: readonly number[],
): number {
  const [rows] = referenceOptLogits(config, weights, [[...prompt, ...tokens]], [[...mask, ...tokens.map(() => 1)]]);
  let sum = 0;
  tokens.forEach((token, i) => {
    const row = rows![prompt.length - 1 + i]!;
    const top = Math.max(...row);
    sum += row[token]! - top - Math.log(row.reduce((a, v) => a + Math.exp(v - top), 0));
  });
  return sum;
}
