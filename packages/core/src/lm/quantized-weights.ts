// bitsandbytes 4-bit Linear weights in a causal-LM checkpoint, the layout transformers + bitsandbytes
// save (per quantised Linear: the packed `weight`, `weight.absmax`, `weight.quant_map`, the nested
// fields and `weight.quant_state.bitsandbytes__nf4`; bitsandbytes/nn/modules.py
// Linear4bit._save_to_state_dict, transformers src/transformers/quantizers/quantizer_bnb_4bit.py) and
// the `quantization_config` of config.json. On load the 4-bit tensors go straight into the Linears
// (Linear.storeWeight4bit) before the float tensors are matched by name; on save they are written back
// byte for byte (@mmft/core/quant quantStateTensors).
import { MmftError } from '../errors';
import type { SafetensorsTensor } from '../io/safetensors';
import type { WritableTensor } from '../io/safetensors-write';
import { Linear } from '../nn/linear';
import type { AnyModule } from '../nn/module';
import { quantizedWeights4bit } from '../nn/quant4';
import { BNB_4BIT_SUFFIXES, quantizationConfigJson, quantizedFromTensors, quantStateTensors, type BitsAndBytes4bitConfig } from '../quant';

const STATE_KEY = /^(.*)\.weight\.quant_state\.bitsandbytes__(?:nf4|fp4)$/;

/** Options of `takeQuantizedLinears` (as loadCausalLmWeights's). */
export interface TakeQuantizedLinearsOptions {
  /** The base model's prefix ("model", "transformer"): file keys without it still find their Linear. */
  readonly basePrefix?: string;
  /** The file each tensor came from, named in errors. */
  readonly tensorFiles?: ReadonlyMap<string, string>;
  /** Where the tensors were read ("<dir>/model.safetensors"), named in errors. */
  readonly source?: string;
  /** The model class, named in errors. */
  readonly modelName?: string;
}

/** What takeQuantizedLinears did. */
export interface TakeQuantizedLinearsResult {
  /** The tensors that are not part of a 4-bit weight, to be loaded by name as usual. */
  readonly rest: Map<string, SafetensorsTensor>;
  /** Module names (model side) whose weight is now held in 4 bits. */
  readonly quantized: string[];
}

/**
 * Finds every bitsandbytes 4-bit weight in `tensors`, holds it in its Linear of `root` (frozen, in 4
 * bits) and returns the other tensors. A 4-bit weight for a module that is not a Linear, or of another
 * shape, is an E_CHECKPOINT error naming the tensor and its file.
 *
 * @example
 * const { rest, quantized } = takeQuantizedLinears(model.root, folder.tensors, { tensorFiles: folder.tensorFiles });
 * loadCausalLmWeights(model.root, rest, { tensorFiles: folder.tensorFiles });
 */
export function takeQuantizedLinears(
  root: AnyModule,
  tensors: ReadonlyMap<string, SafetensorsTensor>,
  options: TakeQuantizedLinearsOptions = {},
): TakeQuantizedLinearsResult {
  const rest = new Map(tensors);
  const quantized: string[] = [];
  const stateKeys = [...tensors.keys()].filter((key) => STATE_KEY.test(key));
  if (stateKeys.length === 0) return { rest, quantized };
  const modules = new Map(root.namedModules());
  const owner = options.modelName ?? root.constructor.name;
  for (const key of stateKeys) {
    const fileName = STATE_KEY.exec(key)![1]!;
    const prefixed = options.basePrefix ? `${options.basePrefix}.${fileName}` : undefined;
    const name = !modules.has(fileName) && prefixed && modules.has(prefixed) ? prefixed : fileName;
    const layer = modules.get(name);
    const file = options.tensorFiles?.get(key) ?? options.source ?? 'the checkpoint';
    if (!(layer instanceof Linear)) {
      throw new MmftError(
        'E_CHECKPOINT',
        `${owner}: ${file} holds a 4-bit weight "${fileName}.weight", but ${layer ? `the model's "${name}" is a ${layer.constructor.name}, not a Linear` : `the model has no module "${name}"`}`,
        {
          hint: 'the checkpoint belongs to another architecture, or quantised a layer transformers keeps in float (check llm_int8_skip_modules)',
        },
      );
    }
    const q = quantizedFromTensors((suffix) => tensors.get(`${fileName}.weight${suffix}`), `${fileName}.weight (${file})`);
    if (q.length !== layer.outFeatures * layer.inFeatures) {
      throw new MmftError(
        'E_CHECKPOINT',
        `${owner}: 4-bit weight "${fileName}.weight" in ${file} has shape [${q.shape.join(', ')}], the model's Linear is [${layer.outFeatures}, ${layer.inFeatures}]`,
        { hint: 'the checkpoint was made for a model of another size: check config.json against the weights' },
      );
    }
    if (layer.hasParam('weight')) layer.param('weight').trainable = false;
    layer.storeWeight4bit(q);
    for (const suffix of ['', ...BNB_4BIT_SUFFIXES]) rest.delete(`${fileName}.weight${suffix}`);
    quantized.push(name);
  }
  return { rest, quantized };
}

/**
 * The tensors of `root`'s 4-bit Linear weights in bitsandbytes' layout, by state-dict name
 * (`<module>.weight`, `<module>.weight.absmax`, ...), for a save beside the float tensors.
 *
 * @example
 * const weights = new Map([...(await causalLmTensors(root)), ...quantizedLinearTensors(root)]);
 */
export function quantizedLinearTensors(root: AnyModule): Map<string, WritableTensor> {
  const out = new Map<string, WritableTensor>();
  for (const [name, q] of quantizedWeights4bit(root)) {
    for (const [suffix, tensor] of quantStateTensors(q)) out.set(`${name}${suffix}`, tensor);
  }
  return out;
}

/**
 * config.json's `quantization_config` for `root` when some of its Linear weights are held in 4 bits
 * (else undefined): quant type and double quantisation from the weights, and every Linear left in
 * float32 named in llm_int8_skip_modules, so transformers converts exactly the layers that are stored
 * in 4 bits.
 *
 * @example
 * const q = quantizationConfigOf(model.root); // { load_in_4bit: true, bnb_4bit_quant_type: 'nf4', ... }
 */
export function quantizationConfigOf(root: AnyModule): Record<string, unknown> | undefined {
  const weights = quantizedWeights4bit(root);
  const first = weights.values().next().value;
  if (!first) return undefined;
  const quantizedModules = new Set([...weights.keys()].map((name) => name.replace(/\.?weight$/, '')));
  const kept = new Set<string>();
  for (const [name, module] of root.namedModules()) if (module instanceof Linear && !quantizedModules.has(name)) kept.add(name);
  const config: BitsAndBytes4bitConfig = {
    load_in_4bit: true,
    quant_type: first.quantType,
    double_quant: first.nested !== undefined,
    block_size: first.blockSize,
    compute_dtype: first.dtype,
    skip_modules: kept.size ? [...kept] : undefined,
  };
  return quantizationConfigJson(config);
}
