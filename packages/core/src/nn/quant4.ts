// Frozen Linear weights in 4 bits across a model (QLoRA's base): every Linear the optimizer does not
// update is quantised to bitsandbytes' NF4/FP4 (Linear.storeWeight4bit), as transformers'
// replace_with_bnb_linear swaps nn.Linear for bnb.nn.Linear4bit (transformers
// src/transformers/integrations/bitsandbytes.py) and skips llm_int8_skip_modules, lm_head by default.
import type * as tf from '@tensorflow/tfjs-core';
import { quantize4bit, type BitsAndBytes4bitConfig, type QuantDtype, type QuantType4, type Quantized4bit } from '../quant';
import { Linear, type PackedWeight4bit } from './linear';
import type { AnyModule } from './module';

/** Options of quantizeLinears4bit (the recipe's `quantization:` section, BitsAndBytesConfig's fields). */
export interface QuantizeLinears4bitOptions {
  /** bnb_4bit_quant_type (default 'nf4', QLoRA's). */
  readonly quantType?: QuantType4;
  /** Elements per absmax block (default 64). */
  readonly blockSize?: number;
  /** bnb_4bit_use_double_quant (default true, QLoRA's). */
  readonly doubleQuant?: boolean;
  /** llm_int8_skip_modules: modules left in float32 (default ['lm_head']). */
  readonly skipModules?: readonly string[];
  /** The quant_state dtype label (bnb_4bit_compute_dtype; default 'float32'). */
  readonly dtype?: QuantDtype;
}

/**
 * quantizeLinears4bit's options for a recipe's `quantization:` section (BitsAndBytesConfig's fields),
 * so the trainer and the benchmarks quantise alike.
 *
 * @example
 * quantizeLinears4bit(root, quantizeOptionsOf(BitsAndBytes4bitConfig.parse({ load_in_4bit: true })));
 */
export function quantizeOptionsOf(config: BitsAndBytes4bitConfig): QuantizeLinears4bitOptions {
  return {
    quantType: config.quant_type,
    blockSize: config.block_size,
    doubleQuant: config.double_quant,
    skipModules: config.skip_modules,
    dtype: config.compute_dtype,
  };
}

/** What quantizeLinears4bit did. */
export interface QuantizeLinears4bitResult {
  /** Linear weights now held in 4 bits. */
  readonly quantized: number;
  /** Bytes of float32 weight data freed (less what the 4-bit tensors take). */
  readonly bytesSaved: number;
  /** Frozen Linears left in float32: by the skip list, or because their weight is shared. */
  readonly skipped: readonly string[];
}

/**
 * Whether `name` (a module's dotted name) is skipped by `entry`: the entry names a run of whole
 * components of it, at the start ("model.layers.0" skips everything below), the end ("lm_head"
 * skips "language_model.lm_head") or between. transformers' should_convert_module
 * (src/transformers/quantizers/quantizers_utils.py) matches a prefix or a plain string suffix;
 * whole components keep "fc1" from reaching "xfc1".
 *
 * @example
 * skipsModule('language_model.lm_head', 'lm_head'); // true
 */
export function skipsModule(name: string, entry: string): boolean {
  const e = entry.replace(/^\.+|\.+$/g, '');
  return e !== '' && `.${name}.`.includes(`.${e}.`);
}

/**
 * Holds every frozen Linear weight of `root` in 4 bits, skipping `skipModules` and any weight listed
 * under several names (tied to an embedding, or shared through a wrapper: the other owner reads a
 * float32 variable). Trainable weights (adapters, modules_to_save) stay float32.
 *
 * @example
 * applyLora(model.root, config); // freezes the base
 * quantizeLinears4bit(model.root, { quantType: 'nf4', doubleQuant: true }); // { quantized: 154, bytesSaved: …, skipped: ['lm_head'] }
 */
export function quantizeLinears4bit(root: AnyModule, options: QuantizeLinears4bitOptions = {}): QuantizeLinears4bitResult {
  const { quantType = 'nf4', blockSize = 64, doubleQuant = true, skipModules = ['lm_head'], dtype = 'float32' } = options;
  const names = new Map<tf.Variable, number>();
  for (const [, variable] of root.stateDict()) names.set(variable, (names.get(variable) ?? 0) + 1);
  let quantized = 0;
  let bytesSaved = 0;
  const skipped: string[] = [];
  const seen = new Set<AnyModule>();
  for (const [path, layer] of root.namedModules()) {
    if (seen.has(layer)) continue;
    seen.add(layer);
    if (!(layer instanceof Linear) || layer.packedWeight || layer.packedWeight4bit || !layer.hasParam('weight')) continue;
    const weight = layer.param('weight');
    if (weight.trainable) continue;
    if (names.get(weight) !== 1 || skipModules.some((entry) => skipsModule(path, entry))) {
      skipped.push(path);
      continue;
    }
    const shape = [layer.outFeatures, layer.inFeatures];
    const q = quantize4bit(weight.dataSync() as Float32Array, quantType, { blockSize, doubleQuant, shape, dtype });
    bytesSaved += layer.storeWeight4bit(q);
    quantized += 1;
  }
  return { quantized, bytesSaved, skipped };
}

/** The 4-bit Linear weights of `root` by dotted weight name (the tensors the kernels read; for logs and counts). */
export function linears4bit(root: AnyModule): Map<string, PackedWeight4bit> {
  const out = new Map<string, PackedWeight4bit>();
  for (const [path, layer] of root.namedModules()) {
    if (layer instanceof Linear && layer.packedWeight4bit) out.set(path ? `${path}.weight` : 'weight', layer.packedWeight4bit);
  }
  return out;
}

/**
 * The 4-bit Linear weights of `root` by dotted weight name as @mmft/core/quant's Quantized4bit, read
 * back for a save (quantStateTensors writes each as the bitsandbytes keys).
 *
 * @example
 * for (const [name, q] of quantizedWeights4bit(model.root)) for (const [suffix, t] of quantStateTensors(q)) write(name + suffix, t);
 */
export function quantizedWeights4bit(root: AnyModule): Map<string, Quantized4bit> {
  const out = new Map<string, Quantized4bit>();
  for (const [path, layer] of root.namedModules()) {
    const q = layer instanceof Linear ? layer.quantizedWeight : undefined;
    if (q) out.set(path ? `${path}.weight` : 'weight', q);
  }
  return out;
}
