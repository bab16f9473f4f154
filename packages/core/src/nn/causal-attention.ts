// Self-attention of decoder-only language models: causal mask, a KV cache that grows by the new
// positions on every call, grouped-query heads and rotary positions. Follows
// transformers/models/llama/modeling_llama.py (LlamaAttention, repeat_kv, eager_attention_forward) and
// transformers/models/opt/modeling_opt.py (OPTAttention: biases, queries scaled after projection).
// The core runs as the fused Attention kernel where the active backend registers it, else as tfjs ops
// (both differentiable), like MultiHeadAttention in attention.ts.

import * as tf from '@tensorflow/tfjs-core';
import type { KeyValueCache } from '../contracts/model';
import { assertThat } from '../errors';
import { Attention, isRegistered, runFused } from '../kernels';
import { attentionRecorder } from './attention-record';
import { Dropout } from './dropout';
import { deriveSeed } from './init';
import { Linear } from './linear';
import { causalLmMask, MASK_MIN } from './masks';
import { Module } from './module';
import { applyRotary, type RotaryCosSin } from './rotary';
import { maskedSoftmax } from './softmax';

const shapeOf = (t: tf.Tensor): string => `[${t.shape.join(', ')}]`;

/** Inputs of `attendCausal`. */
export interface AttendCausalInputs {
  /** [B, H, T, headDim], this call's queries (rotated already where the model uses RoPE). */
  query: tf.Tensor;
  /** [B, Hkv, T, headDim], this call's keys; H must be a multiple of Hkv. */
  key: tf.Tensor;
  /** [B, Hkv, T, headDim], this call's values. */
  value: tf.Tensor;
  /**
   * Additive mask broadcastable to [B, H, T, past + T] (causalLmMask); when absent, a causal mask
   * without padding is used.
   */
  mask?: tf.Tensor;
  /** Keys/values of earlier positions: this call's are appended (cache.update(layer, …)) and attended to. */
  cache?: KeyValueCache;
  /** This layer's index in `cache`. */
  layer?: number;
  /** Multiplies q·kᵀ (headDim^-0.5, or 1 where the queries were scaled already as OPT does). */
  scale: number;
  /** Dropout on the attention probabilities, active in training mode (HF `attention_dropout`). */
  dropout?: Dropout;
}

/**
 * repeat_kv: [B, Hkv, S, hd] → [B, Hkv·nRep, S, hd], query head h reading kv head floor(h / nRep).
 *
 * @example
 * const k8 = repeatKeyValueHeads(k2, 4); // 2 kv heads serve 8 query heads
 */
export function repeatKeyValueHeads(x: tf.Tensor, nRep: number): tf.Tensor {
  if (nRep === 1) return x;
  const [batch, heads, length, headDim] = x.shape as [number, number, number, number];
  // A gather, not a rank-5 tile: tfjs has no gradient for tile above rank 4. It gathers whole
  // [S·hd] rows on axis 0 of [B·Hkv, S·hd] rather than on axis 1: the engines copy axis-0 rows in one
  // block each (backend-tfjs wasm/GatherV2.ts), while the generic axis-1 gather went element by
  // element and was the largest kernel of a LLaVA training step and of every decode step
  // (docs/benchmarks.md, LLaVA). Same values, and the gradient sums the same terms in the same order.
  const index = new Int32Array(batch * heads * nRep);
  for (let b = 0; b < batch; b++) for (let h = 0; h < heads * nRep; h++) index[b * heads * nRep + h] = b * heads + Math.floor(h / nRep);
  return tf.tidy(() =>
    tf.reshape(tf.gather(tf.reshape(x, [batch * heads, length * headDim]), tf.tensor1d(index, 'int32'), 0), [
      batch,
      heads * nRep,
      length,
      headDim,
    ]),
  );
}

/** HF's eager attention runs the softmax in float32; tfjs floats are float32 already, so this rarely casts. */
const f32 = (x: tf.Tensor): tf.Tensor => (x.dtype === 'float32' ? x : tf.cast(x, 'float32'));

/** [B, H, L, hd] → [B, L, H·hd]. */
const mergeHeads = (x: tf.Tensor): tf.Tensor => {
  const [batch, heads, length, headDim] = x.shape;
  return tf.reshape(tf.transpose(x, [0, 2, 1, 3]), [batch, length, heads * headDim]);
};

/** [B, L, H·hd] → [B, H, L, hd]. */
const splitHeads = (x: tf.Tensor, heads: number): tf.Tensor => {
  const [batch, length, width] = x.shape;
  return tf.transpose(tf.reshape(x, [batch, length, heads, width / heads]), [0, 2, 1, 3]);
};

function checkInputs(inputs: AttendCausalInputs): void {
  const { query: q, key: k, value: v } = inputs;
  assertThat(
    q.rank === 4 &&
      k.rank === 4 &&
      v.rank === 4 &&
      k.shape.every((d, i) => d === v.shape[i]) &&
      k.shape[0] === q.shape[0] &&
      k.shape[2] === q.shape[2] &&
      k.shape[3] === q.shape[3] &&
      k.shape[1]! > 0 &&
      q.shape[1]! % k.shape[1]! === 0,
    'E_SHAPE',
    () =>
      `attendCausal needs query [B, H, T, hd] and key/value [B, Hkv, T, hd] with H a multiple of Hkv; ` +
      `got query ${shapeOf(q)}, key ${shapeOf(k)}, value ${shapeOf(v)}`,
  );
  assertThat(
    !inputs.cache || (inputs.layer !== undefined && Number.isInteger(inputs.layer) && inputs.layer >= 0),
    'E_SHAPE',
    () => `attendCausal with a cache needs the layer index, got layer ${inputs.layer}`,
  );
}

/**
 * softmax(q·kᵀ·scale + mask)·v over the cached and new positions: query [B, H, T, hd] → [B, T, H·hd].
 * This call's key/value go into `cache` first when one is given. The softmax runs in float32 with the
 * mask clamped at MASK_MIN, so a fully blocked (left-padding) row gives finite uniform weights.
 *
 * @example
 * const context = attendCausal({ query: q, key: k, value: v, mask, cache, layer: 3, scale: 1 / Math.sqrt(64) });
 */
export function attendCausal(inputs: AttendCausalInputs): tf.Tensor {
  checkInputs(inputs);
  const { query, cache, layer, scale, dropout } = inputs;
  const [batch, heads, length] = query.shape;
  return tf.tidy(() => {
    const past = cache ? cache.length : 0;
    // The cache owns what update returns (kept, disposed on its next update): it must outlive this tidy.
    const { key, value } = cache ? cache.update(layer!, inputs.key, inputs.value) : { key: inputs.key, value: inputs.value };
    const keys = key.shape[2]!;
    const mask = inputs.mask ?? causalLmMask(undefined, 1, length, keys - length);
    const expected = [batch, heads, length, keys];
    assertThat(
      mask.rank === 4 && mask.shape.every((d, i) => d === 1 || d === expected[i]) && mask.shape[3] === keys,
      'E_SHAPE',
      () =>
        `attention mask ${shapeOf(mask)} does not broadcast to [B, H, T, past + T] = [${expected.join(', ')}] ` +
        `(past ${past}); build it with causalLmMask over past + new positions`,
    );
    const kvHeads = key.shape[1]!;
    const nRep = heads / kvHeads;
    const dropping = dropout !== undefined && dropout.training && dropout.p > 0;
    // A recording (attention-record.ts) needs the probabilities, which the fused kernel never materialises.
    const recorder = attentionRecorder();
    const fusable = !recorder && isRegistered(Attention) && !dropping && query.dtype === 'float32' && mask.dtype === 'float32';
    if (fusable) {
      const [k, v] = [repeatKeyValueHeads(key, nRep), repeatKeyValueHeads(value, nRep)];
      const attrs = { numHeads: heads, scale, minValue: MASK_MIN };
      return runFused(Attention, { q: mergeHeads(query), k: mergeHeads(k), v: mergeHeads(v), mask }, attrs)!;
    }
    // Grouped-query without copying keys: the nRep query heads of a group (consecutive, as repeat_kv
    // orders them) become nRep·T rows against that group's kv head.
    const grouped = tf.reshape(f32(query), [batch, kvHeads, nRep * length, query.shape[3]!]);
    const scores = tf.mul(tf.matMul(grouped, f32(key), false, true), scale); // [B, Hkv, nRep·T, S]
    const probs = maskedSoftmax(tf.reshape(scores, [batch, heads, length, keys]), f32(mask));
    const kept = dropping ? dropout.forward(probs) : probs;
    recorder?.push(tf.keep(kept));
    const context = tf.matMul(tf.reshape(kept, [batch, kvHeads, nRep * length, keys]), f32(value));
    return mergeHeads(tf.reshape(context, [batch, heads, length, query.shape[3]!]));
  });
}

/** Child names of the four projections. */
export interface CausalAttentionNames {
  query: string;
  key: string;
  value: string;
  output: string;
}

/** Options of `CausalSelfAttention`. */
export interface CausalSelfAttentionOptions {
  /** Width of the hidden states (HF hidden_size). */
  embedDim: number;
  /** Query heads (num_attention_heads). */
  numHeads: number;
  /** Key/value heads (num_key_value_heads; default numHeads; fewer is grouped-query attention). */
  numKeyValueHeads?: number;
  /** Per-head width (default embedDim / numHeads). */
  headDim?: number;
  /** Biases on q/k/v (default true, as OPT's enable_bias; Llama's attention_bias is false). */
  bias?: boolean;
  /** Bias on the output projection (default: as `bias`). */
  outputBias?: boolean;
  /** Attention scale (default headDim^-0.5). */
  scale?: number;
  /** Scale the projected queries (OPT: q_proj(x)·scale) rather than the scores (Llama); equal up to rounding. */
  scaleQueries?: boolean;
  /** Dropout on the attention probabilities in training (HF attention_dropout / dropout; default 0). */
  dropout?: number;
  seed?: number;
  /** Default { query: 'q_proj', key: 'k_proj', value: 'v_proj', output: 'o_proj' } (Llama; OPT's output is 'out_proj'). */
  names?: Partial<CausalAttentionNames>;
  /** Order the projections are registered in, hence listed in the state dict (default query, key, value, output; OPT: key, value, query, output). */
  order?: ReadonlyArray<keyof CausalAttentionNames>;
}

/** Extra inputs of `CausalSelfAttention.forward`. */
export interface CausalSelfAttentionInputs {
  /** Additive mask [B|1, 1, T, past + T] from causalLmMask; a plain causal mask when absent. */
  attentionMask?: tf.Tensor;
  /** cos/sin [B|1, T, rotaryDim] from RotaryEmbedding.cosSin for this call's positions. */
  rotary?: RotaryCosSin;
  /** Cache of earlier positions; this call's keys/values are appended. */
  cache?: KeyValueCache;
  /** This layer's index in the cache. */
  layer?: number;
}

/**
 * q/k/v projections, optional rotary, attendCausal, output projection: hidden [B, T, embedDim] → [B, T, embedDim].
 *
 * @example
 * const attn = new CausalSelfAttention({ embedDim: 64, numHeads: 8, numKeyValueHeads: 2, bias: false }); // Llama
 * const y = attn.forward(hidden, { attentionMask: causalLmMask(mask2d, B, T, 0), rotary: rope.cosSin(positionIds) });
 */
export class CausalSelfAttention extends Module<[tf.Tensor, CausalSelfAttentionInputs?], tf.Tensor> {
  readonly embedDim: number;
  readonly numHeads: number;
  readonly numKeyValueHeads: number;
  readonly headDim: number;
  readonly scale: number;
  readonly scaleQueries: boolean;
  readonly names: CausalAttentionNames;

  constructor(options: CausalSelfAttentionOptions) {
    super();
    const { embedDim, numHeads, seed } = options;
    const numKeyValueHeads = options.numKeyValueHeads ?? numHeads;
    assertThat(
      Number.isInteger(numHeads) && numHeads > 0 && Number.isInteger(numKeyValueHeads) && numKeyValueHeads > 0,
      'E_CONFIG',
      () => `attention needs positive head counts, got num_attention_heads ${numHeads}, num_key_value_heads ${numKeyValueHeads}`,
    );
    assertThat(
      numHeads % numKeyValueHeads === 0,
      'E_CONFIG',
      () => `num_attention_heads (${numHeads}) must be a multiple of num_key_value_heads (${numKeyValueHeads})`,
    );
    assertThat(
      options.headDim !== undefined || embedDim % numHeads === 0,
      'E_CONFIG',
      () => `hidden_size (${embedDim}) must be divisible by num_attention_heads (${numHeads}), or give head_dim`,
    );
    this.embedDim = embedDim;
    this.numHeads = numHeads;
    this.numKeyValueHeads = numKeyValueHeads;
    this.headDim = options.headDim ?? embedDim / numHeads;
    this.scale = options.scale ?? this.headDim ** -0.5;
    this.scaleQueries = options.scaleQueries ?? false;
    this.names = { query: 'q_proj', key: 'k_proj', value: 'v_proj', output: 'o_proj', ...options.names };
    const bias = options.bias ?? true;
    const widths: Record<keyof CausalAttentionNames, [number, number, boolean]> = {
      query: [embedDim, numHeads * this.headDim, bias],
      key: [embedDim, numKeyValueHeads * this.headDim, bias],
      value: [embedDim, numKeyValueHeads * this.headDim, bias],
      output: [numHeads * this.headDim, embedDim, options.outputBias ?? bias],
    };
    const order = options.order ?? ['query', 'key', 'value', 'output'];
    assertThat(
      order.length === 4 && new Set(order).size === 4 && order.every((o) => o in widths),
      'E_CONFIG',
      () => `order must list query, key, value and output once each, got ${JSON.stringify(order)}`,
    );
    for (const role of order) {
      const [input, output, withBias] = widths[role];
      const name = this.names[role];
      this.registerModule(name, new Linear(input, output, { bias: withBias, seed: deriveSeed(seed, name) }));
    }
    this.registerModule('dropout', new Dropout(options.dropout ?? 0, { seed: deriveSeed(seed, 'dropout') }));
  }

  forward(hidden: tf.Tensor, inputs: CausalSelfAttentionInputs = {}): tf.Tensor {
    assertThat(
      hidden.rank === 3 && hidden.shape[2] === this.embedDim,
      'E_SHAPE',
      () => `causal self-attention needs hidden states [B, T, ${this.embedDim}], got ${shapeOf(hidden)}`,
    );
    const proj = (name: string) => this.child<Module<[tf.Tensor], tf.Tensor>>(name); // read at call time: PEFT may have replaced it
    return tf.tidy(() => {
      let q = splitHeads(proj(this.names.query).forward(hidden), this.numHeads);
      let k = splitHeads(proj(this.names.key).forward(hidden), this.numKeyValueHeads);
      const v = splitHeads(proj(this.names.value).forward(hidden), this.numKeyValueHeads);
      if (this.scaleQueries) q = tf.mul(q, this.scale);
      if (inputs.rotary) [q, k] = applyRotary(q, k, inputs.rotary.cos, inputs.rotary.sin);
      const context = attendCausal({
        query: q,
        key: k,
        value: v,
        mask: inputs.attentionMask,
        cache: inputs.cache,
        layer: inputs.layer,
        scale: this.scaleQueries ? 1 : this.scale,
        dropout: this.child<Dropout>('dropout'),
      });
      return proj(this.names.output).forward(context);
    });
  }
}
