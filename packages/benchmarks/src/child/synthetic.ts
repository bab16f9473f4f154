// Synthetic CLIP batches with a closed-form definition, so the PyTorch peer
// (python/torch_peer.py, synthetic_batch) builds the same inputs without sharing files:
//   pixel[s, c, y, x] = sin(0.05·(x+1)·(c+1) + 0.11·y·(c+1) + 0.7·s)   for sample s = k·B + b
//   text s: bos, tokens 1 + (s·7919 + t·104729) mod (V−3), eos at position 8 + (13·s) mod (T−9), pad 0.
// A small fixed pool of batches is cycled, so the loss after N steps shows learning.
import * as tf from '@tensorflow/tfjs-core';
import type { Batch } from '@mmft/core';

/** Shapes and special ids of the synthetic batches. */
export interface SyntheticSpec {
  readonly batch: number;
  readonly imageSize: number;
  readonly textLength: number;
  readonly vocabSize: number;
  readonly bosId: number;
  readonly eosId: number;
}

/** Number of distinct batches in the pool (the peer uses the same). */
export const POOL_BATCHES = 4;

/** Pixels [B, 3, S, S] of pool batch `k`. */
export function syntheticPixels(spec: Pick<SyntheticSpec, 'batch' | 'imageSize'>, k: number): Float32Array {
  const { batch: B, imageSize: S } = spec;
  const out = new Float32Array(B * 3 * S * S);
  let i = 0;
  for (let b = 0; b < B; b++) {
    const s = k * B + b;
    for (let c = 0; c < 3; c++)
      for (let y = 0; y < S; y++) for (let x = 0; x < S; x++) out[i++] = Math.sin(0.05 * (x + 1) * (c + 1) + 0.11 * y * (c + 1) + 0.7 * s);
  }
  return out;
}

/** Token ids and attention mask [B, T] of pool batch `k`. */
export function syntheticText(spec: SyntheticSpec, k: number): { ids: Int32Array; mask: Int32Array } {
  const { batch: B, textLength: T, vocabSize: V } = spec;
  const ids = new Int32Array(B * T);
  const mask = new Int32Array(B * T);
  for (let b = 0; b < B; b++) {
    const s = k * B + b;
    const eosAt = 8 + ((13 * s) % (T - 9));
    for (let t = 0; t < T; t++) {
      const at = b * T + t;
      ids[at] = t === 0 ? spec.bosId : t < eosAt ? 1 + ((s * 7919 + t * 104729) % (V - 3)) : t === eosAt ? spec.eosId : 0;
      mask[at] = t <= eosAt ? 1 : 0;
    }
  }
  return { ids, mask };
}

/** The pool as kept tensors (dispose with disposePool). */
export function syntheticPool(spec: SyntheticSpec, withText = true): Batch[] {
  return Array.from({ length: POOL_BATCHES }, (_, k) => {
    const pixelValues = tf.keep(tf.tensor4d(syntheticPixels(spec, k), [spec.batch, 3, spec.imageSize, spec.imageSize]));
    if (!withText) return { inputs: { pixelValues }, examples: [] };
    const { ids, mask } = syntheticText(spec, k);
    const inputIds = tf.keep(tf.tensor2d(ids, [spec.batch, spec.textLength], 'int32'));
    const attentionMask = tf.keep(tf.tensor2d(mask, [spec.batch, spec.textLength], 'int32'));
    return { inputs: { pixelValues, inputIds, attentionMask }, examples: [] };
  });
}

/** Frees the pool's tensors. */
export function disposePool(pool: readonly Batch[]): void {
  for (const batch of pool) tf.dispose(Object.values(batch.inputs).filter((t): t is tf.Tensor => t instanceof tf.Tensor));
}

/** The synthetic spec of an HF CLIPConfig object at `batch` × `textLength`. */
export function syntheticSpecOf(config: Record<string, unknown>, batch: number, textLength: number): SyntheticSpec {
  const vision = (config.vision_config ?? {}) as Record<string, number>;
  const text = (config.text_config ?? {}) as Record<string, number>;
  const vocabSize = text.vocab_size ?? 49408;
  return {
    batch,
    textLength,
    imageSize: vision.image_size ?? 224,
    vocabSize,
    bosId: text.bos_token_id ?? vocabSize - 2,
    eosId: text.eos_token_id ?? vocabSize - 1,
  };
}

/** The validated `model.config` (HF CLIPConfig with defaults) of an experiment. */
export function modelConfigOf(experiment: { readonly recipe: { readonly value: Record<string, unknown> } }): Record<string, unknown> {
  const model = experiment.recipe.value.model as { config?: Record<string, unknown> } | undefined;
  return model?.config ?? {};
}
