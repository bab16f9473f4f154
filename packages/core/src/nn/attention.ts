// Multi-head scaled dot-product attention with HF CLIPAttention's parameter names (q_proj,
// k_proj, v_proj, out_proj; configurable for query/key/value archs), additive masks, cross-
// attention and a prefix-tuning hook. Follows transformers/models/clip/modeling_clip.py. The core
// (q·kᵀ, mask, softmax, ·V) runs as one fused kernel where the active backend registers it
// (@mmft/backend-tfjs does for wasm with its native addon), else as tfjs's ops per head.

import * as tf from '@tensorflow/tfjs-core';
import { assertThat } from '../errors';
import { deriveSeed } from './init';
import { Dropout } from './dropout';
import { Linear } from './linear';
import { extendMaskForPrefix, MASK_MIN } from './masks';
import { Module } from './module';
import { repeatBatch } from './repeat-batch';
import { Attention, isRegistered, runFused } from '../kernels';
import { maskedSoftmax } from './softmax';

/** Child names of the four projections. */
export interface AttentionProjectionNames {
  query: string;
  key: string;
  value: string;
  output: string;
}

/** Options of `MultiHeadAttention`. */
export interface MultiHeadAttentionOptions {
  embedDim: number;
  numHeads: number;
  /** Width of `keyValueStates` for cross-attention (default embedDim). */
  kvDim?: number;
  /** Biases on the projections (default true). */
  bias?: boolean;
  /** Dropout on the attention probabilities (HF `attention_dropout`, default 0). */
  dropout?: number;
  /** Default { query: 'q_proj', key: 'k_proj', value: 'v_proj', output: 'out_proj' }. */
  names?: Partial<AttentionProjectionNames>;
  seed?: number;
}

/** Extra inputs of `MultiHeadAttention.forward`. */
export interface AttentionInputs {
  /** Additive mask broadcastable to [B, 1, T, S] (see masks.ts). */
  attentionMask?: tf.Tensor;
  /** [B, S, kvDim]: attend to these instead of the queries' own sequence (cross-attention). */
  keyValueStates?: tf.Tensor;
  /** Prefix tuning: keys/values [B or 1, H, P, headDim] put before the computed ones; the mask is widened inside. */
  pastKeyValues?: { key: tf.Tensor; value: tf.Tensor };
}

const shapeOf = (t: tf.Tensor): string => `[${t.shape.join(', ')}]`;

/**
 * softmax(Q Kᵀ / √headDim + mask) V over `numHeads` heads: hidden [B, T, D] → [B, T, D].
 *
 * @example
 * const attn = new MultiHeadAttention({ embedDim: 768, numHeads: 12 });
 * const y = attn.forward(hidden, { attentionMask: causalMask(T) });
 */
export class MultiHeadAttention extends Module<[tf.Tensor, AttentionInputs?], tf.Tensor> {
  readonly embedDim: number;
  readonly numHeads: number;
  readonly headDim: number;
  readonly scale: number;
  readonly names: AttentionProjectionNames;

  constructor(options: MultiHeadAttentionOptions) {
    super();
    const { embedDim, numHeads, seed } = options;
    assertThat(
      numHeads > 0 && embedDim % numHeads === 0,
      'E_CONFIG',
      () => `embedDim (${embedDim}) must be divisible by numHeads (${numHeads})`,
    );
    this.embedDim = embedDim;
    this.numHeads = numHeads;
    this.headDim = embedDim / numHeads;
    this.scale = 1 / Math.sqrt(this.headDim);
    this.names = { query: 'q_proj', key: 'k_proj', value: 'v_proj', output: 'out_proj', ...options.names };
    const kvDim = options.kvDim ?? embedDim;
    const bias = options.bias ?? true;
    // HF registers k, v, q, out in this order; the order of names in a state dict follows it.
    const { query, key, value, output } = this.names;
    this.registerModule(key, new Linear(kvDim, embedDim, { bias, seed: deriveSeed(seed, key) }));
    this.registerModule(value, new Linear(kvDim, embedDim, { bias, seed: deriveSeed(seed, value) }));
    this.registerModule(query, new Linear(embedDim, embedDim, { bias, seed: deriveSeed(seed, query) }));
    this.registerModule(output, new Linear(embedDim, embedDim, { bias, seed: deriveSeed(seed, output) }));
    this.registerModule('dropout', new Dropout(options.dropout ?? 0, { seed: deriveSeed(seed, 'dropout') }));
  }

  forward(hidden: tf.Tensor, inputs: AttentionInputs = {}): tf.Tensor {
    assertThat(
      hidden.rank === 3 && hidden.shape[2] === this.embedDim,
      'E_SHAPE',
      () => `attention needs hidden states [B, T, ${this.embedDim}], got ${shapeOf(hidden)}`,
    );
    const [batch, length] = hidden.shape;
    const kvSource = inputs.keyValueStates ?? hidden;
    assertThat(
      kvSource.rank === 3 && kvSource.shape[0] === batch,
      'E_SHAPE',
      () => `keyValueStates must be [${batch}, S, kvDim], got ${shapeOf(kvSource)}`,
    );
    const proj = (name: string) => this.child<Module<[tf.Tensor], tf.Tensor>>(name); // read at call time: PEFT may have replaced it
    return tf.tidy(() => {
      const q = proj(this.names.query).forward(hidden);
      let k = proj(this.names.key).forward(kvSource);
      let v = proj(this.names.value).forward(kvSource);
      let mask = inputs.attentionMask;
      if (inputs.pastKeyValues) {
        const past = this.checkPast(inputs.pastKeyValues, batch);
        k = tf.concat([this.mergeHeads(past.key), k], 1);
        v = tf.concat([this.mergeHeads(past.value), v], 1);
        if (mask) mask = extendMaskForPrefix(mask, past.key.shape[2]!);
      }
      const keys = k.shape[1]!;
      if (mask) {
        const [m, expected] = [mask, [batch, this.numHeads, length, keys]];
        assertThat(
          m.rank === 4 && m.shape.every((d, i) => d === 1 || d === expected[i]),
          'E_SHAPE',
          () => `attentionMask ${shapeOf(m)} does not broadcast to [B, H, T, S] = [${expected.join(', ')}]`,
        );
      }
      const context = this.fusable(q, mask, keys) ? this.fusedCore(q, k, v, mask) : this.compositeCore(q, k, v, mask);
      return proj(this.names.output).forward(context);
    });
  }

  /**
   * Whether the fused kernel can run the core: registered by the active backend, float32, keys to
   * attend to, a mask with one value per key, and no dropout on the probabilities (it needs them).
   */
  private fusable(q: tf.Tensor, mask: tf.Tensor | undefined, keys: number): boolean {
    const dropout = this.child<Dropout>('dropout');
    return (
      isRegistered(Attention) &&
      q.dtype === 'float32' &&
      keys > 0 &&
      (!dropout.training || dropout.p === 0) &&
      (!mask || (mask.dtype === 'float32' && mask.shape[3] === keys))
    );
  }

  /**
   * q [B, T, D], k, v [B, S, D] → context [B, T, D] in one kernel, which scales the scores (not q,
   * as HF's eager_attention_forward; equal up to rounding); no mask is a zero mask.
   */
  private fusedCore(q: tf.Tensor, k: tf.Tensor, v: tf.Tensor, mask: tf.Tensor | undefined): tf.Tensor {
    const m = mask ?? tf.zeros([1, 1, 1, k.shape[1]!]);
    const attrs = { numHeads: this.numHeads, scale: this.scale, minValue: MASK_MIN };
    // fusable() checked that the backend registers it.
    return runFused(Attention, { q, k, v, mask: m }, attrs)!;
  }

  /** The same with tfjs's ops: q scaled (as HF CLIPAttention), per-head products, masked softmax, dropout, heads merged. */
  private compositeCore(q: tf.Tensor, k: tf.Tensor, v: tf.Tensor, mask: tf.Tensor | undefined): tf.Tensor {
    const scores = tf.matMul(this.splitHeads(tf.mul(q, this.scale)), this.splitHeads(k), false, true); // [B, H, T, S]
    // Clamped at MASK_MIN: no -Infinity, hence no NaN rows (masks.ts).
    const probs = this.child<Dropout>('dropout').forward(maskedSoftmax(scores, mask));
    return this.mergeHeads(tf.matMul(probs, this.splitHeads(v)));
  }

  /** [B, H, L, headDim] → [B, L, D]. */
  private mergeHeads(x: tf.Tensor): tf.Tensor {
    const [batch, , length] = x.shape;
    return tf.reshape(tf.transpose(x, [0, 2, 1, 3]), [batch, length, this.embedDim]);
  }

  /** [B, L, D] → [B, H, L, headDim]. */
  private splitHeads(x: tf.Tensor): tf.Tensor {
    const [batch, length] = x.shape;
    return tf.transpose(tf.reshape(x, [batch, length, this.numHeads, this.headDim]), [0, 2, 1, 3]);
  }

  private checkPast(past: { key: tf.Tensor; value: tf.Tensor }, batch: number): { key: tf.Tensor; value: tf.Tensor } {
    const fits = (t: tf.Tensor) =>
      t.rank === 4 && (t.shape[0] === batch || t.shape[0] === 1) && t.shape[1] === this.numHeads && t.shape[3] === this.headDim;
    assertThat(
      fits(past.key) && fits(past.value) && past.key.shape[2] === past.value.shape[2],
      'E_SHAPE',
      () =>
        `pastKeyValues must be [${batch} or 1, ${this.numHeads}, P, ${this.headDim}] each; ` +
        `got key ${shapeOf(past.key)}, value ${shapeOf(past.value)}`,
    );
    // A prefix shared by the whole batch is stored once and repeated here.
    const expand = (t: tf.Tensor) => (t.shape[0] === batch ? t : repeatBatch(t, batch));
    return { key: expand(past.key), value: expand(past.value) };
  }
}
