// Analytic GEMM FLOPs of the causal-LM experiments (2 FLOPs per multiply-add; norms, softmax,
// activations, rotary, embedding lookups and the optimizer are left out). Per token and layer with
// width D, query width Hq·hd, key/value width Hkv·hd and MLP width I: q and o 2·2·D·Hq·hd, k and v
// 2·2·D·Hkv·hd, the MLP 3·2·D·I when gated (Llama: gate, up, down) or 2·2·D·I (OPT, GPT-2); a query
// over S keys adds 2·2·S·Hq·hd (scores and context); the head 2·E·V per scored position (E: the
// embedding width, OPT's word_embed_proj_dim, with project_in/out 2·D·E each when E ≠ D).
// Backward, as flops.ts counts it: 3× forward for trained weights, 2× for frozen ones gradients
// pass through (PEFT; the first layer's inputs need none, so this slightly over-counts), and LoRA's
// own GEMMs 2·r·(in + out) per token and adapted module, trained (3×).
import { MmftError } from '@mmft/core';

/** The GEMM shapes of a decoder-only LM. */
export interface LmShape {
  readonly layers: number;
  readonly width: number;
  readonly queryWidth: number;
  readonly keyValueWidth: number;
  readonly mlp: number;
  readonly gated: boolean;
  readonly vocab: number;
  /** Width of the token embedding and the head's input (OPT word_embed_proj_dim), usually `width`. */
  readonly embedWidth: number;
}

const num = (config: Record<string, unknown>, key: string): number | undefined =>
  typeof config[key] === 'number' ? (config[key] as number) : undefined;

/**
 * LmShape of a validated config.json of `modelType` (llama, opt or gpt2).
 *
 * @example
 * lmShapeOf('llama', { hidden_size: 256, num_hidden_layers: 4, ... }).queryWidth; // 256
 */
export function lmShapeOf(modelType: string, config: Record<string, unknown>): LmShape {
  const need = (key: string): number => {
    const v = num(config, key);
    if (v === undefined) throw new MmftError('E_CONFIG', `benchmark FLOPs: the ${modelType} config has no numeric ${key}`);
    return v;
  };
  if (modelType === 'llama') {
    const width = need('hidden_size');
    const heads = need('num_attention_heads');
    const headDim = num(config, 'head_dim') ?? width / heads;
    return {
      layers: need('num_hidden_layers'),
      width,
      queryWidth: heads * headDim,
      keyValueWidth: (num(config, 'num_key_value_heads') ?? heads) * headDim,
      mlp: need('intermediate_size'),
      gated: true,
      vocab: need('vocab_size'),
      embedWidth: width,
    };
  }
  if (modelType === 'opt') {
    const width = need('hidden_size');
    return {
      layers: need('num_hidden_layers'),
      width,
      queryWidth: width,
      keyValueWidth: width,
      mlp: need('ffn_dim'),
      gated: false,
      vocab: need('vocab_size'),
      embedWidth: num(config, 'word_embed_proj_dim') ?? width,
    };
  }
  if (modelType === 'gpt2') {
    const width = need('n_embd');
    return {
      layers: need('n_layer'),
      width,
      queryWidth: width,
      keyValueWidth: width,
      mlp: num(config, 'n_inner') ?? 4 * width,
      gated: false,
      vocab: need('vocab_size'),
      embedWidth: width,
    };
  }
  throw new MmftError('E_UNSUPPORTED', `benchmark FLOPs: no GEMM count for model type "${modelType}" (llama, opt and gpt2 have one)`);
}

/** Weight GEMMs of one token through one layer. */
function layerLinear(s: LmShape): number {
  return 2 * 2 * s.width * s.queryWidth + 2 * 2 * s.width * s.keyValueWidth + (s.gated ? 3 : 2) * 2 * s.width * s.mlp;
}

/** project_in + project_out of one token (OPT when word_embed_proj_dim ≠ hidden_size). */
const projections = (s: LmShape) => (s.embedWidth === s.width ? 0 : 2 * 2 * s.width * s.embedWidth);

/** The head over one position. */
const head = (s: LmShape) => 2 * s.embedWidth * s.vocab;

/** [in, out] of the modules LoRA adapts, by HF name. */
function adaptedShape(s: LmShape, name: string): [number, number] | undefined {
  const table: Record<string, [number, number]> = {
    q_proj: [s.width, s.queryWidth],
    k_proj: [s.width, s.keyValueWidth],
    v_proj: [s.width, s.keyValueWidth],
    o_proj: [s.queryWidth, s.width],
    out_proj: [s.queryWidth, s.width],
    gate_proj: [s.width, s.mlp],
    up_proj: [s.width, s.mlp],
    down_proj: [s.mlp, s.width],
    fc1: [s.width, s.mlp],
    fc2: [s.mlp, s.width],
  };
  return table[name];
}

/**
 * FLOPs of one forward pass and one training step over `batch` rows of `length` positions (logits
 * at every position, as the loss needs them); `lora` counts the step as PEFT does.
 *
 * @example
 * lmTrainFlops(shape, 8, 128).step; // 3 × forward
 */
export function lmTrainFlops(
  s: LmShape,
  batch: number,
  length: number,
  lora?: { readonly r: number; readonly targets: readonly string[] },
): { forward: number; step: number } {
  const weights = length * (s.layers * layerLinear(s) + projections(s) + head(s));
  const attention = s.layers * 2 * 2 * length * length * s.queryWidth;
  const adapters = lora
    ? s.layers *
      length *
      lora.targets.reduce((sum, name) => {
        const shape = adaptedShape(s, name);
        return sum + (shape ? 2 * lora.r * (shape[0] + shape[1]) : 0);
      }, 0)
    : 0;
  const forward = weights + attention + adapters;
  const step = lora ? 2 * weights + 3 * attention + 3 * adapters : 3 * forward;
  return { forward: batch * forward, step: batch * step };
}

/**
 * FLOPs of a prefill over `promptLength` positions per row: the whole decoder (OPT's project_out
 * included), and the head for the last position only (transformers' generate() asks for logits_to_keep = 1 there).
 */
export function lmPrefillFlops(s: LmShape, batch: number, promptLength: number): number {
  const body = promptLength * (s.layers * layerLinear(s) + projections(s)) + s.layers * 2 * 2 * promptLength * promptLength * s.queryWidth;
  return batch * (body + head(s));
}

/** FLOPs of one decode step: one new token per row attending to `keys` positions (past + itself). */
export function lmDecodeStepFlops(s: LmShape, batch: number, keys: number): number {
  return batch * (s.layers * (layerLinear(s) + 2 * 2 * keys * s.queryWidth) + projections(s) + head(s));
}
