// Synthetic causal-LM batches with a closed-form definition, so the PyTorch peer
// (python/torch_peer.py, lm_batch / lm_prompt) builds the same inputs without sharing files.
// Training row s = k·B + b of pool batch k (T positions, vocabulary V, pad id p):
//   length L = T − (37·s) mod ⌊T/4⌋ real tokens, then right padding (mask 0, id p);
//   token t < L: 3 + (s·7919 + t·104729) mod (V − 3)  (ids 0–2 stay free for pad/bos/eos);
//   labels: −100 on the prompt (t < 4 + (13·s) mod 12) and on padding, the token id elsewhere,
// as objective-causal-lm collates a right-padded batch (labels −100 on prompts and padding).
// Generation prompt row b (every row T real tokens, no padding): 3 + ((b+1)·7919 + t·104729) mod (V − 3).
import * as tf from '@tensorflow/tfjs-core';
import { MmftError } from '@mmft/core';
import { IGNORE_INDEX } from '@mmft/core/lm';

/** Shapes of the synthetic LM batches. */
export interface LmSyntheticSpec {
  readonly batch: number;
  /** Positions per row: the training sequence or the prompt. */
  readonly length: number;
  readonly vocabSize: number;
  readonly padId: number;
}

/** One training batch as host arrays [B, T] and its label-token count. */
export interface LmHostBatch {
  readonly ids: Int32Array;
  readonly mask: Int32Array;
  readonly labels: Int32Array;
  /** Labels the loss scores: non-ignored labels at positions ≥ 1 (objective-causal-lm's labelCount). */
  readonly count: number;
}

/** One training batch as kept tensors. */
export interface LmBatch {
  readonly inputIds: tf.Tensor2D;
  readonly attentionMask: tf.Tensor2D;
  readonly labels: tf.Tensor2D;
  readonly count: number;
}

const tokenAt = (s: number, t: number, vocab: number) => 3 + ((s * 7919 + t * 104729) % (vocab - 3));

/** Real tokens of training row `s`. */
export const lmRowLength = (s: number, length: number): number => length - ((37 * s) % Math.max(1, Math.floor(length / 4)));

/** Prompt tokens (labels −100) of training row `s`. */
export const lmPromptLength = (s: number): number => 4 + ((13 * s) % 12);

/** Host arrays of pool batch `k`. */
export function lmHostBatch(spec: LmSyntheticSpec, k: number): LmHostBatch {
  const { batch: B, length: T, vocabSize: V } = spec;
  const ids = new Int32Array(B * T);
  const mask = new Int32Array(B * T);
  const labels = new Int32Array(B * T);
  let count = 0;
  for (let b = 0; b < B; b++) {
    const s = k * B + b;
    const real = lmRowLength(s, T);
    const prompt = lmPromptLength(s);
    for (let t = 0; t < T; t++) {
      const at = b * T + t;
      const inText = t < real;
      ids[at] = inText ? tokenAt(s, t, V) : spec.padId;
      mask[at] = inText ? 1 : 0;
      labels[at] = inText && t >= prompt ? ids[at]! : IGNORE_INDEX;
      if (t >= 1 && labels[at] !== IGNORE_INDEX) count++;
    }
  }
  return { ids, mask, labels, count };
}

/** The training pool as kept tensors (dispose with disposeLmPool). */
export function lmPool(spec: LmSyntheticSpec, batches: number): LmBatch[] {
  return Array.from({ length: batches }, (_, k) => {
    const host = lmHostBatch(spec, k);
    const shape: [number, number] = [spec.batch, spec.length];
    return {
      inputIds: tf.keep(tf.tensor2d(host.ids, shape, 'int32')),
      attentionMask: tf.keep(tf.tensor2d(host.mask, shape, 'int32')),
      labels: tf.keep(tf.tensor2d(host.labels, shape, 'int32')),
      count: host.count,
    };
  });
}

/** Frees the pool's tensors. */
export function disposeLmPool(pool: readonly LmBatch[]): void {
  for (const batch of pool) tf.dispose([batch.inputIds, batch.attentionMask, batch.labels]);
}

/** Prompt ids [B, T] of the prefill and decode kinds (all rows full length). */
export function lmPromptIds(spec: LmSyntheticSpec): Int32Array {
  const ids = new Int32Array(spec.batch * spec.length);
  for (let b = 0; b < spec.batch; b++) for (let t = 0; t < spec.length; t++) ids[b * spec.length + t] = tokenAt(b + 1, t, spec.vocabSize);
  return ids;
}

/** The spec of a causal LM's validated config (vocab_size, pad_token_id) at `batch` × `length`. */
export function lmSpecOf(config: Record<string, unknown>, batch: number, length: number): LmSyntheticSpec {
  const vocabSize = config.vocab_size;
  if (typeof vocabSize !== 'number') {
    throw new MmftError('E_CONFIG', 'benchmark: the causal LM experiment has no model.config.vocab_size', {
      hint: 'give the model by config fields (model: { type: llama, config: { vocab_size: ... } })',
    });
  }
  const pad = config.pad_token_id;
  return { batch, length, vocabSize, padId: typeof pad === 'number' ? pad : 0 };
}
