// Bridges between a Module's state dict and safetensors data: save a model's parameters as F32
// (as `model.state_dict()` feeds safetensors' save_file) and load decoded tensors back by name,
// materialising only the tensors the model keeps.

import * as tf from '@tensorflow/tfjs-core';
import { MmftError } from '../errors';
import type { AnyModule } from '../nn/module';
import { linears4bit } from '../nn/quant4';
import type { LoadStateDictOptions, LoadStateDictResult } from '../nn/state-dict';
import type { SafetensorsDtype } from './dtypes';
import type { SafetensorsTensor } from './safetensors';
import type { WritableTensor } from './safetensors-write';

const DTYPE_OF: Partial<Record<tf.DataType, SafetensorsDtype>> = { float32: 'F32', int32: 'I32', bool: 'BOOL' };

/** Options of `tensorsFromModule`. */
export interface TensorsFromModuleOptions {
  /** The caller writes Linear weights held in 4 bits itself (lm/save.ts, in bitsandbytes' layout); else they are an error. */
  readonly quantizedWrittenByCaller?: boolean;
}

/**
 * Every parameter of `module` under its dotted name, ready for `writeSafetensors`
 * (float32 variables as F32; tied weights appear under each name).
 *
 * @example
 * await writeSafetensors('out/model.safetensors', await tensorsFromModule(model));
 */
export async function tensorsFromModule(module: AnyModule, options: TensorsFromModuleOptions = {}): Promise<Map<string, WritableTensor>> {
  if (!options.quantizedWrittenByCaller) {
    const held = [...linears4bit(module).keys()];
    if (held.length > 0) {
      throw new MmftError(
        'E_UNSUPPORTED',
        `${held.length} Linear weight(s) are held in 4 bits (${held.slice(0, 3).join(', ')}${held.length > 3 ? ', …' : ''}); this save writes float32 weights only`,
        {
          hint: 'causal LMs, LLaVA and BLIP-2 save 4-bit weights in the bitsandbytes layout; for other models call restoreWeight32() on each Linear (dequantise) before saving',
        },
      );
    }
  }
  const out = new Map<string, WritableTensor>();
  for (const [name, variable] of module.stateDict()) {
    const dtype = DTYPE_OF[variable.dtype];
    if (!dtype)
      throw new MmftError('E_UNSUPPORTED', `parameter "${name}" has dtype ${variable.dtype}, which safetensors I/O does not write`);
    out.set(name, { dtype, shape: variable.shape, data: (await variable.data()) as Float32Array | Int32Array | Uint8Array });
  }
  return out;
}

/**
 * Assigns decoded safetensors tensors to `module`'s parameters by name, with the checks and
 * strictness of `Module.loadStateDict` (E_CHECKPOINT naming missing, unexpected, mis-shaped).
 *
 * @example
 * const { tensors } = await readShardedSafetensors(dir);
 * loadTensorsIntoModule(model, tensors, { strict: false });
 */
export function loadTensorsIntoModule(
  module: AnyModule,
  tensors: ReadonlyMap<string, SafetensorsTensor>,
  options: LoadStateDictOptions = {},
): LoadStateDictResult {
  const shapes = new Map([...tensors].map(([name, t]) => [name, t.shape] as const));
  return module.loadStateDict(
    {
      shapes,
      get: (name) => {
        const t = tensors.get(name)!;
        // Floats (F64 included: tfjs has no float64) become float32, integers int32, BOOL bool.
        const float = t.data instanceof Float32Array || t.data instanceof Float64Array;
        const dtype: tf.DataType = float ? 'float32' : t.dtype === 'BOOL' ? 'bool' : 'int32';
        return tf.tensor(t.data instanceof Float64Array ? Float32Array.from(t.data) : t.data, t.shape, dtype);
      },
    },
    options,
  );
}
