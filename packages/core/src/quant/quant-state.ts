// The tensors a bitsandbytes 4-bit Linear adds to a state dict (bitsandbytes/nn/modules.py
// Linear4bit._save_to_state_dict, bitsandbytes/functional.py QuantState.as_dict(packed=True) / from_dict),
// keyed by their suffix after "<module>.weight", so checkpoint code can write and read the layout that
// transformers + bitsandbytes produce, including packed weights held in a float "quant_storage" dtype.

import { MmftError } from '../errors';
import type { SafetensorsDtype, TensorData } from '../io/dtypes';
import { f32ToBf16, f32ToF16 } from '../io/half';
import { checkBlockSize4, type QuantDtype, type Quantized4bit } from './bnb4';
import { QUANT_TYPES_4BIT, type QuantType4 } from './codebooks';
import { PyFloat, pythonJsonDumps, type PyJson } from './python-json';

/** One tensor of the 4-bit layout, ready for writeSafetensors. */
export interface QuantStateTensor {
  dtype: 'U8' | 'F32';
  shape: number[];
  data: Uint8Array | Float32Array;
}

/** A tensor as a checkpoint reader hands it over (io's SafetensorsTensor fits). */
export interface QuantStateInput {
  dtype: SafetensorsDtype;
  shape: readonly number[];
  data: TensorData;
}

/** Key suffixes after "<module>.weight" that belong to a 4-bit weight (the packed weight itself is ''). */
export const BNB_4BIT_SUFFIXES: readonly string[] = [
  '.absmax',
  '.quant_map',
  '.nested_absmax',
  '.nested_quant_map',
  '.quant_state.bitsandbytes__nf4',
  '.quant_state.bitsandbytes__fp4',
];

const DTYPES: readonly QuantDtype[] = ['float32', 'bfloat16', 'float16'];
const STATE_KEYS = ['quant_type', 'blocksize', 'dtype', 'shape', 'nested_blocksize', 'nested_dtype', 'nested_offset'];

/** The JSON bitsandbytes packs under ".quant_state.bitsandbytes__<type>", byte for byte (Python json.dumps). */
export function quantStateJson(q: Quantized4bit): string {
  const state: Record<string, PyJson> = {
    quant_type: q.quantType,
    blocksize: q.blockSize,
    dtype: q.dtype,
    shape: [...q.shape],
  };
  if (q.nested) {
    state.nested_blocksize = q.nested.blockSize;
    state.nested_dtype = 'float32';
    // .item() of the float32 offset is a Python float (float64); repr prints its shortest round-trip digits.
    state.nested_offset = new PyFloat(Math.fround(q.nested.offset));
  }
  return pythonJsonDumps(state);
}

/**
 * The tensors bitsandbytes saves for a 4-bit weight, by suffix after "<module>.weight": '' (packed
 * [⌈n/2⌉, 1] U8), '.absmax', '.quant_map', and with double quantisation '.nested_absmax' and
 * '.nested_quant_map', then '.quant_state.bitsandbytes__<type>' (JSON as UTF-8 bytes).
 *
 * @example
 * for (const [suffix, t] of quantStateTensors(q)) tensors.set(`model.layers.0.mlp.up_proj.weight${suffix}`, t);
 */
export function quantStateTensors(q: Quantized4bit): Map<string, QuantStateTensor> {
  const nb = Math.ceil(q.length / q.blockSize);
  const out = new Map<string, QuantStateTensor>();
  out.set('', { dtype: 'U8', shape: [q.packed.length, 1], data: q.packed });
  if (q.absmax.length !== nb)
    throw new MmftError(
      'E_SHAPE',
      `4-bit tensor of ${q.length} elements in blocks of ${q.blockSize} needs ${nb} absmax values, has ${q.absmax.length}`,
    );
  out.set(
    '.absmax',
    q.nested ? { dtype: 'U8', shape: [nb], data: q.absmax as Uint8Array } : { dtype: 'F32', shape: [nb], data: q.absmax as Float32Array },
  );
  out.set('.quant_map', { dtype: 'F32', shape: [q.code.length], data: q.code });
  if (q.nested) {
    out.set('.nested_absmax', { dtype: 'F32', shape: [q.nested.absmax.length], data: q.nested.absmax });
    out.set('.nested_quant_map', { dtype: 'F32', shape: [q.nested.code.length], data: q.nested.code });
  }
  const json = new TextEncoder().encode(quantStateJson(q));
  out.set(`.quant_state.bitsandbytes__${q.quantType}`, { dtype: 'U8', shape: [json.length], data: json });
  return out;
}

const ITEM_SIZE: Partial<Record<SafetensorsDtype, number>> = { U8: 1, I8: 1, F16: 2, BF16: 2, F32: 4, F64: 8 };

// The raw bytes of a packed weight, whatever quant_storage dtype it was saved in (torch's .view(dtype)
// reinterprets the same bytes). Readers decode F16/BF16 bit-exactly to float32, so re-encoding restores them.
function storageBytes(t: QuantStateInput, data: TensorData): Uint8Array {
  const bytesOf = (a: ArrayBufferView): Uint8Array => new Uint8Array(a.buffer, a.byteOffset, a.byteLength);
  if (t.dtype === 'F16' && data instanceof Float32Array) return bytesOf(f32ToF16(data));
  if (t.dtype === 'BF16' && data instanceof Float32Array) return bytesOf(f32ToBf16(data));
  return bytesOf(data);
}

/**
 * Rebuilds a Quantized4bit from the tensors of one 4-bit weight; `get(suffix)` returns the tensor
 * stored under "<where>" + suffix, or undefined. Accepts the packed weight as U8 [(n+1)/2, 1], [n/2] or
 * [1, n/2], or in a quant_storage dtype (BF16 as LLaMA-Factory writes it, F16, F32, F64, I8).
 * Failures are E_CHECKPOINT errors naming the tensor.
 *
 * @example
 * const q = quantizedFromTensors((s) => file.tensors.get(`${name}.weight${s}`), `${name}.weight`);
 */
export function quantizedFromTensors(get: (suffix: string) => QuantStateInput | undefined, where: string): Quantized4bit {
  const fail = (message: string, hint?: string): never => {
    throw new MmftError('E_CHECKPOINT', `4-bit weight "${where}": ${message}`, { hint });
  };
  const found = QUANT_TYPES_4BIT.filter((t) => get(`.quant_state.bitsandbytes__${t}`) !== undefined);
  if (found.length !== 1) {
    fail(
      found.length ? 'has both quant_state.bitsandbytes__nf4 and __fp4' : 'has no "quant_state.bitsandbytes__nf4" (or __fp4) tensor',
      'a bitsandbytes 4-bit checkpoint stores the quant state next to each packed weight; was it saved with bitsandbytes >= 0.41.3?',
    );
  }
  const stateKey = `.quant_state.bitsandbytes__${found[0]}`;
  const stateTensor = get(stateKey)!;
  if (stateTensor.dtype !== 'U8') fail(`${where}${stateKey} is ${stateTensor.dtype}, expected U8 (UTF-8 JSON bytes)`);
  let state: Record<string, unknown>;
  try {
    state = JSON.parse(new TextDecoder('utf-8', { fatal: true }).decode(stateTensor.data as Uint8Array));
  } catch (cause) {
    throw new MmftError('E_CHECKPOINT', `4-bit weight "${where}": ${where}${stateKey} is not UTF-8 JSON`, { cause });
  }
  if (typeof state !== 'object' || state === null || Array.isArray(state)) return fail(`${where}${stateKey} is not a JSON object`);
  const unknown = Object.keys(state).filter((k) => !STATE_KEYS.includes(k));
  if (unknown.length) fail(`${where}${stateKey} has unknown keys ${unknown.join(', ')}; bitsandbytes writes ${STATE_KEYS.join(', ')}`);
  const quantType = state.quant_type as QuantType4;
  if (quantType !== found[0]) fail(`${where}${stateKey} says quant_type ${JSON.stringify(state.quant_type)}, its key says ${found[0]}`);
  const blockSize = state.blocksize as number;
  try {
    checkBlockSize4(blockSize, `${where}${stateKey}: blocksize`);
  } catch (cause) {
    throw new MmftError('E_CHECKPOINT', (cause as Error).message, { cause });
  }
  const dtype = state.dtype as QuantDtype;
  if (!DTYPES.includes(dtype)) fail(`${where}${stateKey}: dtype ${JSON.stringify(state.dtype)} is not one of ${DTYPES.join(', ')}`);
  const shape = state.shape as number[];
  if (!Array.isArray(shape) || !shape.every((d) => Number.isSafeInteger(d) && d >= 0)) {
    fail(`${where}${stateKey}: shape ${JSON.stringify(state.shape)} is not a list of sizes`);
  }
  const n = shape.reduce((a, d) => a * d, 1);
  const nb = Math.ceil(n / blockSize);
  const need = (suffix: string): QuantStateInput => get(suffix) ?? fail(`tensor "${where}${suffix}" is missing`);
  const count = (t: QuantStateInput): number => t.shape.reduce((a, d) => a * d, 1);
  const floats = (suffix: string, length: number): Float32Array => {
    const t = need(suffix);
    if (!['F32', 'F16', 'BF16'].includes(t.dtype) || count(t) !== length) {
      fail(`tensor "${where}${suffix}" is ${t.dtype} [${t.shape.join(', ')}], expected F32 [${length}]`);
    }
    return Float32Array.from(t.data as Float32Array);
  };

  const weight = need('');
  const itemSize =
    ITEM_SIZE[weight.dtype] ??
    fail(`packed weight "${where}" has dtype ${weight.dtype}; bitsandbytes stores U8 or a float/int8 quant_storage dtype`);
  const dims = weight.shape;
  const elements = count(weight);
  const bytes = Math.ceil(n / 2);
  // torch views the ⌈n/2⌉ bytes as quant_storage (whole items), as [items, 1], [items] or the old [1, items].
  const goodShape = dims.length === 1 || (dims.length === 2 && (dims[1] === 1 || dims[0] === 1));
  if (!goodShape || elements * itemSize < bytes || elements * itemSize >= bytes + itemSize) {
    fail(
      `packed weight is ${weight.dtype} [${dims.join(', ')}] (${elements * itemSize} bytes) but quant_state shape [${shape.join(', ')}] needs ${bytes} bytes as [${Math.ceil(bytes / itemSize)}, 1]`,
    );
  }
  const packed = storageBytes(weight, weight.data).slice(0, bytes);
  const code = floats('.quant_map', 16);
  const base = { quantType, blockSize, length: n, shape, dtype, packed, code };

  const hasNested = get('.nested_absmax') !== undefined;
  const absmaxT = need('.absmax');
  if (!hasNested) {
    if (state.nested_offset !== undefined) fail(`${where}${stateKey} has nested_offset but "${where}.nested_absmax" is missing`);
    return { ...base, absmax: floats('.absmax', nb) };
  }
  if (absmaxT.dtype !== 'U8' || count(absmaxT) !== nb) {
    fail(`tensor "${where}.absmax" is ${absmaxT.dtype} [${absmaxT.shape.join(', ')}], expected U8 [${nb}] (double-quantised codes)`);
  }
  if (state.nested_blocksize !== 256) {
    throw new MmftError(
      'E_UNSUPPORTED',
      `4-bit weight "${where}": nested_blocksize ${JSON.stringify(state.nested_blocksize)} in ${where}${stateKey}; only 256 (what bitsandbytes writes) is supported`,
    );
  }
  if (state.nested_dtype !== 'float32') {
    throw new MmftError(
      'E_UNSUPPORTED',
      `4-bit weight "${where}": nested_dtype ${JSON.stringify(state.nested_dtype)} in ${where}${stateKey}; only float32 is supported`,
    );
  }
  if (typeof state.nested_offset !== 'number')
    fail(`${where}${stateKey}: nested_offset ${JSON.stringify(state.nested_offset)} is not a number`);
  const nested = {
    absmax: floats('.nested_absmax', Math.ceil(nb / 256)),
    code: floats('.nested_quant_map', 256),
    blockSize: 256 as const,
    offset: Math.fround(state.nested_offset as number),
  };
  return { ...base, absmax: Uint8Array.from(absmaxT.data as Uint8Array), nested };
}
