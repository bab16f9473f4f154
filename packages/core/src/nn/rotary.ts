// Rotary position embedding (RoPE) in Hugging Face's half-split convention. Follows
// transformers/modeling_rope_utils.py (_compute_default_rope_parameters, linear scaling) and
// transformers/models/llama/modeling_llama.py (LlamaRotaryEmbedding, rotate_half, apply_rotary_pos_emb):
// inv_freq = 1 / base^(arange(0, dim, 2) / dim), emb = cat(freqs, freqs), x' = x·cos + rotate_half(x)·sin.

import * as tf from '@tensorflow/tfjs-core';
import { assertThat, MmftError } from '../errors';

/** A config.json `rope_scaling` object as HF writes it ({ rope_type | type, factor, ... }). */
export type RopeScaling = Readonly<Record<string, unknown>>;

/** Options of `RotaryEmbedding`. */
export interface RotaryEmbeddingOptions {
  /** Rotated features per head (head_dim × partial_rotary_factor); even. */
  dim: number;
  /** HF `rope_theta` (default 10000). */
  base?: number;
  /** HF `rope_scaling`; null/undefined or type "default" is plain RoPE, "linear" divides positions by `factor`. */
  scaling?: RopeScaling | null;
}

/** cos and sin of every position's angles, [B, T, dim] each. */
export interface RotaryCosSin {
  cos: tf.Tensor;
  sin: tf.Tensor;
}

const shapeOf = (t: tf.Tensor): string => `[${t.shape.join(', ')}]`;

/**
 * The inverse frequencies as transformers computes them, rounded to float32 at each step (its
 * arange, division, power and reciprocal all run in float32), so angles match to the last bit or so.
 */
function inverseFrequencies(dim: number, base: number, factor: number): Float32Array {
  const out = new Float32Array(dim / 2);
  for (let i = 0; i < dim / 2; i++) {
    const exponent = Math.fround((2 * i) / dim);
    out[i] = Math.fround(Math.fround(1 / Math.fround(base ** exponent)) / factor);
  }
  return out;
}

/** The linear factor of `rope_scaling`; any other scaling type is refused by name. */
function linearFactor(scaling: RopeScaling | null | undefined): number {
  if (scaling == null) return 1;
  // transformers reads `rope_type`, falling back to the older `type` key.
  const type = scaling['rope_type'] ?? scaling['type'] ?? 'default';
  if (type === 'default') return 1;
  if (type === 'linear') {
    const factor = scaling['factor'];
    if (typeof factor !== 'number' || !(factor >= 1)) {
      throw new MmftError('E_CONFIG', `rope_scaling.factor must be a number ≥ 1 for linear scaling, got ${JSON.stringify(factor)}`, {
        hint: 'set rope_scaling to {"rope_type": "linear", "factor": 2.0} (or remove it) in config.json',
      });
    }
    return factor;
  }
  // transformers also implements "dynamic" (NTK), "yarn", "longrope" and "llama3" (ROPE_INIT_FUNCTIONS in
  // modeling_rope_utils.py); they change frequencies per sequence length or per band and are not implemented here.
  throw new MmftError('E_UNSUPPORTED', `rope_scaling.rope_type "${String(type)}" is not supported; supported: default, linear`, {
    hint: 'use a checkpoint without rope_scaling or with rope_scaling.rope_type "linear"',
  });
}

/**
 * Produces cos/sin tables from position ids, as LlamaModel.rotary_emb does once per forward.
 *
 * @example
 * const rope = new RotaryEmbedding({ dim: 64, base: config.rope_theta, scaling: config.rope_scaling });
 * const { cos, sin } = rope.cosSin(positionIds); // [B, T, 64] each
 * const [q2, k2] = applyRotary(q, k, cos, sin);
 */
export class RotaryEmbedding {
  readonly dim: number;
  readonly base: number;
  /** Positions are divided by this (1 without scaling). */
  readonly factor: number;
  /** [dim / 2] float32 values of 1 / (base^(2i/dim) · factor). */
  readonly invFreq: Float32Array;

  constructor(options: RotaryEmbeddingOptions) {
    const { dim } = options;
    const base = options.base ?? 10000;
    assertThat(
      Number.isInteger(dim) && dim > 0 && dim % 2 === 0,
      'E_CONFIG',
      () => `rotary dim must be a positive even integer, got ${dim}`,
    );
    assertThat(base > 0, 'E_CONFIG', () => `rope_theta must be positive, got ${base}`);
    this.dim = dim;
    this.base = base;
    this.factor = linearFactor(options.scaling);
    this.invFreq = inverseFrequencies(dim, base, this.factor);
  }

  /** cos and sin of positionIds [B, T] × invFreq, each [B, T, dim] float32 (the angles repeat once: cat(freqs, freqs)). */
  cosSin(positionIds: tf.Tensor): RotaryCosSin {
    assertThat(positionIds.rank === 2, 'E_SHAPE', () => `rotary positionIds must be [B, T], got ${shapeOf(positionIds)}`);
    return tf.tidy(() => {
      const [batch, length] = positionIds.shape;
      const positions = tf.reshape(tf.cast(positionIds, 'float32'), [batch, length, 1]);
      const freqs = tf.mul(positions, tf.tensor1d(this.invFreq));
      const emb = tf.concat([freqs, freqs], -1);
      return { cos: tf.cos(emb), sin: tf.sin(emb) };
    });
  }
}

/** cat(-x[..., d/2:], x[..., :d/2]) over the last axis. */
export function rotateHalf(x: tf.Tensor): tf.Tensor {
  return tf.tidy(() => {
    const [first, second] = tf.split(x, 2, -1);
    return tf.concat([tf.neg(second), first], -1);
  });
}

/** cat(x[..., d/2:], x[..., :d/2]) as whole-block copies; being its own inverse, its gradient is itself applied to dy. */
const swapHalves = tf.customGrad((...args: Array<tf.Tensor | tf.GradSaveFunc>) => {
  const x = args[0] as tf.Tensor;
  // [N, 2, h] → [2, N·h] (all first halves, then all second halves) → rows [1, 0] → back: two fast
  // transposes and two block copies, 3× cheaper than gathering N·2 rows of h floats one by one.
  const permute = (t: tf.Tensor) => {
    const half = t.shape[t.rank - 1]! / 2;
    const rows = t.size / (2 * half);
    const blocks = tf.reshape(tf.transpose(tf.reshape(t, [rows, 2, half]), [1, 0, 2]), [2, rows * half]);
    const swapped = tf.gather(blocks, tf.tensor1d([1, 0], 'int32'), 0);
    return tf.reshape(tf.transpose(tf.reshape(swapped, [2, rows, half]), [1, 0, 2]), t.shape);
  };
  return { value: permute(x), gradFunc: (dy: tf.Tensor) => permute(dy) };
}) as (x: tf.Tensor) => tf.Tensor;

/**
 * x·cos + rotate_half(x)·sin computed as x·cos + swapHalves(x)·sinSigned, sinSigned = cat(−sin₁, sin₂):
 * the same products (−(a·b) = (−a)·b = a·(−b) exactly in float32), hence the same bits, and the
 * gradient too. rotate_half's split + neg + concat over the last axis copy element by element on the
 * engines and were ~8% of a LLaVA training step; the swap moves whole blocks.
 */
function rotate(x: tf.Tensor, cos: tf.Tensor, sinSigned: tf.Tensor): tf.Tensor {
  const dim = cos.shape[cos.rank - 1]!;
  const headDim = x.shape[3]!;
  // Partial rotary (rotary dim < head dim): the tail passes through, as GPT-NeoX-style models in transformers do.
  const [rot, pass] = dim === headDim ? [x, undefined] : tf.split(x, [dim, headDim - dim], -1);
  const rotated = tf.add(tf.mul(rot, cos), tf.mul(swapHalves(rot), sinSigned));
  return pass ? tf.concat([rotated, pass], -1) : rotated;
}

/**
 * Rotates queries [B, H, T, headDim] and keys [B, Hkv, T, headDim] by cos/sin [B|1, T, dim] (dim ≤ headDim):
 * x·cos + rotate_half(x)·sin, the same angles for every head.
 *
 * @example
 * const [q2, k2] = applyRotary(q, k, cos, sin);
 */
export function applyRotary(q: tf.Tensor, k: tf.Tensor, cos: tf.Tensor, sin: tf.Tensor): [tf.Tensor, tf.Tensor] {
  const fits = (x: tf.Tensor) =>
    x.rank === 4 &&
    cos.rank === 3 &&
    sin.rank === 3 &&
    cos.shape.every((d, i) => d === sin.shape[i]) &&
    (cos.shape[0] === 1 || cos.shape[0] === x.shape[0]) &&
    cos.shape[1] === x.shape[2] &&
    cos.shape[2]! <= x.shape[3]!;
  assertThat(
    fits(q) && fits(k),
    'E_SHAPE',
    () =>
      `applyRotary needs q [B, H, T, hd], k [B, Hkv, T, hd] and cos/sin [B or 1, T, dim ≤ hd]; ` +
      `got q ${shapeOf(q)}, k ${shapeOf(k)}, cos ${shapeOf(cos)}, sin ${shapeOf(sin)}`,
  );
  return tf.tidy(() => {
    // Unsqueeze at the head axis so one table serves every head.
    const dim = sin.shape[2]!;
    const signs = tf.tensor1d(Float32Array.from({ length: dim }, (_, i) => (i < dim / 2 ? -1 : 1)));
    const [c, s] = [tf.expandDims(cos, 1), tf.expandDims(tf.mul(sin, signs), 1)];
    return [rotate(q, c, s), rotate(k, c, s)];
  });
}
