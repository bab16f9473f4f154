// train.frozen_dtype: frozen Linear weights held in bf16 or fp16 (@mmft/core/nn
// storeFrozenWeights16) once freezing and PEFT have decided what trains, as a torch user loads the
// base in torch_dtype=torch.bfloat16 and trains float32 adapters beside it (peft's LoRA layers keep
// their own weights float32). A full save decodes them for its duration (exactly) and packs them again.
import { MmftError, type RunContext } from '@mmft/core';
import {
  frozenWeights16,
  linears4bit,
  Linear,
  storeFrozenWeights16,
  type AnyModule,
  type Half16Format,
  type StoreFrozenWeights16Result,
} from '@mmft/core/nn';

/** The recipe's values: f32 keeps every weight float32. */
export type FrozenDtype = 'f32' | Half16Format;

const size = (bytes: number) => (bytes < 2 ** 20 ? `${(bytes / 2 ** 10).toFixed(1)} KiB` : `${(bytes / 2 ** 20).toFixed(1)} MiB`);

/**
 * Holds `root`'s frozen Linear weights in `dtype` (nothing for f32) and reports what it did; a
 * 16-bit dtype that finds no frozen Linear weight is an error naming why.
 *
 * @example
 * applyFrozenDtype(loaded.model.root, 'bf16', context, 'CLIPModel'); // "frozen_dtype bf16: 72 frozen Linear weights held in 16 bits, 54.0 MiB freed"
 */
export function applyFrozenDtype(
  root: AnyModule,
  dtype: FrozenDtype,
  context: Pick<RunContext, 'reporter'>,
  modelName: string,
): StoreFrozenWeights16Result | undefined {
  if (dtype === 'f32') return undefined;
  const result = storeFrozenWeights16(root, dtype);
  if (result.packed === 0) {
    throw new MmftError('E_CONFIG', `train.frozen_dtype ${dtype}: ${modelName} has no frozen Linear weight to hold in 16 bits`, {
      hint:
        'frozen_dtype applies to Linear weights the optimizer does not update: add a peft: section (LoRA) or freeze: entries, ' +
        'or leave frozen_dtype at f32 (Conv1D layers such as GPT-2’s, embeddings and norms always stay float32)',
    });
  }
  context.reporter.info(`frozen_dtype ${dtype}: ${result.packed} frozen Linear weights held in 16 bits, ${size(result.bytesSaved)} freed`);
  return result;
}

/**
 * Runs `body` with every 16-bit Linear weight of `root` decoded to float32, then holds them in 16
 * bits again: the values are unchanged (decoding is exact, and re-rounding an exact value gives it back).
 *
 * @example
 * await withFloat32Weights(model.root, () => model.save(dir));
 */
export async function withFloat32Weights<T>(root: AnyModule, body: () => Promise<T>): Promise<T> {
  const packed: Array<[Linear, Half16Format]> = [];
  for (const layer of new Set(root.namedModules().map(([, m]) => m))) {
    if (layer instanceof Linear && layer.packedWeight) packed.push([layer, layer.packedWeight.format]);
  }
  for (const [layer] of packed) layer.restoreWeight32();
  try {
    return await body();
  } finally {
    for (const [layer, format] of packed) layer.storeWeight16(format);
  }
}

/**
 * `counts` with the 16-bit and 4-bit Linear weights of `root` added to the total: they are out of the
 * state dict while packed, yet still the model's parameters (the summary's "trainable %" divides by all,
 * as PEFT's print_trainable_parameters counts a 4-bit weight's elements).
 *
 * @example
 * withWeights16({ trainable: 10, total: 100 }, root); // { trainable: 10, total: 100 + packed values }
 */
export function withWeights16(counts: { trainable: number; total: number }, root: AnyModule): { trainable: number; total: number } {
  let packed = 0;
  for (const weight of frozenWeights16(root).values()) packed += weight.shape[0] * weight.shape[1];
  for (const weight of linears4bit(root).values()) packed += weight.shape[0] * weight.shape[1];
  return { ...counts, total: counts.total + packed };
}
