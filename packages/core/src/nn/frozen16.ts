// Frozen weights in 16-bit storage across a model (the trainer's frozen_dtype): every Linear whose
// weight the optimizer does not update holds it as bf16 or fp16 patterns (Linear.storeWeight16),
// as a torch user keeps a frozen base in `torch_dtype=torch.bfloat16` while adapters train in
// float32 (peft/tuners/lora/layer.py keeps the adapter weights float32 beside such a base).
// Trainable weights, norms, embeddings and biases stay float32.
import type * as tf from '@tensorflow/tfjs-core';
import { Linear, type PackedWeight16 } from './linear';
import type { AnyModule } from './module';
import type { Half16Format } from './packed16';

/** What storeFrozenWeights16 did. */
export interface StoreFrozenWeights16Result {
  /** Linear weights now held in 16 bits. */
  readonly packed: number;
  /** Bytes of float32 weight data freed (half of each packed weight's). */
  readonly bytesSaved: number;
}

/**
 * Holds every frozen Linear weight of `root` in `format`. A weight listed under several names
 * (tied to an embedding, or shared through a wrapper) stays float32: the other owner reads it as a
 * float32 variable.
 *
 * @example
 * applyLora(model.root, config);            // freezes the base
 * storeFrozenWeights16(model.root, 'bf16'); // { packed: 72, bytesSaved: 56623104 }
 */
export function storeFrozenWeights16(root: AnyModule, format: Half16Format): StoreFrozenWeights16Result {
  const names = new Map<tf.Variable, number>();
  for (const [, variable] of root.stateDict()) names.set(variable, (names.get(variable) ?? 0) + 1);
  let packed = 0;
  let bytesSaved = 0;
  for (const layer of new Set(root.namedModules().map(([, m]) => m))) {
    if (!(layer instanceof Linear) || layer.packedWeight || !layer.hasParam('weight')) continue;
    const weight = layer.param('weight');
    if (weight.trainable || names.get(weight) !== 1) continue;
    bytesSaved += layer.storeWeight16(format);
    packed += 1;
  }
  return { packed, bytesSaved };
}

/**
 * Decodes every 16-bit Linear weight of `root` back to a float32 variable (exactly), before a merge
 * or a full save; returns how many it restored.
 *
 * @example
 * restoreFrozenWeights32(model.root); // then merge the adapters and save
 */
export function restoreFrozenWeights32(root: AnyModule): number {
  let restored = 0;
  for (const layer of new Set(root.namedModules().map(([, m]) => m))) {
    if (layer instanceof Linear && layer.packedWeight) {
      layer.restoreWeight32();
      restored += 1;
    }
  }
  return restored;
}

/** The 16-bit Linear weights of `root` by dotted weight name (format and shape, for logs, counts and saves). */
export function frozenWeights16(root: AnyModule): Map<string, PackedWeight16> {
  const out = new Map<string, PackedWeight16>();
  for (const [path, layer] of root.namedModules()) {
    if (layer instanceof Linear && layer.packedWeight) out.set(path ? `${path}.weight` : 'weight', layer.packedWeight);
  }
  return out;
}
