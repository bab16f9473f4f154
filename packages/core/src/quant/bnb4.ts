// bitsandbytes' blockwise 4-bit format (NF4/FP4) with optional double quantisation of the absmax, byte
// for byte as its pure-torch default path writes it (bitsandbytes/backends/default/ops.py quantize_4bit,
// bitsandbytes/functional.py quantize_4bit / dequantize_4bit). docs/qlora.md "The 4-bit format" lists the
// rules and where the CUDA path differs.

import { MmftError } from '../errors';
import { blockCodes, dequantizeBlocks } from './blockwise';
import { codeBounds, codeOf, dynamicMap, QUANT_TYPES_4BIT, type QuantType4 } from './codebooks';

export type { QuantType4 } from './codebooks';

const f32 = Math.fround;

/** Block sizes bitsandbytes accepts for 4-bit weights. */
export const BLOCK_SIZES_4BIT: readonly number[] = [32, 64, 128, 256, 512, 1024, 2048, 4096];

/** The dtype label bitsandbytes keeps in its quant state (the dtype dequantisation casts to). */
export type QuantDtype = 'float32' | 'bfloat16' | 'float16';

/** Double quantisation of the per-block absmax: 8-bit codes of (absmax − offset) in blocks of 256. */
export interface Nested8 {
  /** float32 absmax of each block of 256 centred absmax values. */
  absmax: Float32Array;
  /** the 256-entry signed dynamic map (`nested_quant_map`). */
  code: Float32Array;
  blockSize: 256;
  /** the mean of the float32 absmax, subtracted before and added after (`nested_offset`). */
  offset: number;
}

/** A tensor in bitsandbytes' 4-bit format. */
export interface Quantized4bit {
  quantType: QuantType4;
  blockSize: number;
  /** element count n */
  length: number;
  /** logical shape, e.g. [out, in] */
  shape: readonly number[];
  /** quant_state dtype (compute dtype label); values are always dequantised in float32 here */
  dtype: QuantDtype;
  /** ⌈n/2⌉ bytes, element 2j in the high nibble, 2j+1 in the low nibble */
  packed: Uint8Array;
  /** float32 [nb] plain; uint8 codes [nb] when nested */
  absmax: Float32Array | Uint8Array;
  /** the 16-entry quant_map */
  code: Float32Array;
  /** double quantisation */
  nested?: Nested8;
}

export interface Quantize4Options {
  /** elements per absmax block: 32…4096, a power of two (default 64) */
  blockSize?: number;
  /** quantise the absmax again to 8 bits (bnb_4bit_use_double_quant; default false) */
  doubleQuant?: boolean;
  /** logical shape (default [n]); its product must be n */
  shape?: readonly number[];
  /** quant_state dtype label (default 'float32') */
  dtype?: QuantDtype;
}

/** Throws E_CONFIG unless `blockSize` is one bitsandbytes accepts. */
export function checkBlockSize4(blockSize: number, where = 'blockSize'): void {
  if (!BLOCK_SIZES_4BIT.includes(blockSize)) {
    throw new MmftError(
      'E_CONFIG',
      `${where} ${blockSize} is not a bitsandbytes 4-bit block size; use one of ${BLOCK_SIZES_4BIT.join(', ')}`,
      {
        hint: 'QLoRA uses 64 (the bitsandbytes default)',
      },
    );
  }
}

function checkInput(values: Float32Array, quantType: QuantType4, shape: readonly number[]): void {
  if (!QUANT_TYPES_4BIT.includes(quantType)) {
    throw new MmftError('E_CONFIG', `unknown 4-bit quant type ${JSON.stringify(quantType)}; use one of ${QUANT_TYPES_4BIT.join(', ')}`);
  }
  if (shape.reduce((a, d) => a * d, 1) !== values.length || shape.some((d) => !Number.isSafeInteger(d) || d < 0)) {
    throw new MmftError('E_SHAPE', `shape [${shape.join(', ')}] does not hold the ${values.length} values given to quantize4bit`);
  }
  // bitsandbytes turns a non-finite block into NaN scales and arbitrary codes; refuse instead of storing garbage.
  for (let i = 0; i < values.length; i++) {
    if (!Number.isFinite(values[i])) {
      throw new MmftError('E_NUMERIC', `cannot quantise to 4 bits: element ${i} (of shape [${shape.join(', ')}]) is ${values[i]}`, {
        hint: 'only finite weights can be quantised; check the checkpoint for NaN/Inf',
      });
    }
  }
}

// The nested step of quantize_4bit(compress_statistics=True): offset = absmax.mean(), then 8-bit
// blockwise codes (blocksize 256, the dynamic map) of absmax − offset, all in float32.
function nest(absmax: Float32Array): { codes: Uint8Array; nested: Nested8 } {
  let sum = 0;
  for (const a of absmax) sum += a;
  // torch sums float32 in a build-specific order; the float64 sum rounded once is the exact mean up to
  // one rounding, which torch's result equals or misses by an ulp (the stored offset is what readers use).
  const offset = absmax.length ? f32(sum / absmax.length) : 0;
  const centred = absmax.map((a) => f32(a - offset));
  const code = dynamicMap();
  const { absmax: outer, codes } = blockCodes(centred, 256, codeBounds(code));
  return { codes, nested: { absmax: outer, code, blockSize: 256, offset } };
}

/**
 * Quantises `values` (flattened in row-major order) to bitsandbytes' 4-bit format.
 *
 * @example
 * const q = quantize4bit(weight, 'nf4', { blockSize: 64, doubleQuant: true, shape: [out, inp] });
 * q.packed.length; // Math.ceil(out * inp / 2)
 */
export function quantize4bit(values: Float32Array, quantType: QuantType4, options: Quantize4Options = {}): Quantized4bit {
  const blockSize = options.blockSize ?? 64;
  const shape = [...(options.shape ?? [values.length])];
  checkBlockSize4(blockSize);
  checkInput(values, quantType, shape);
  const n = values.length;
  const code = codeOf(quantType);
  const { absmax, codes } = blockCodes(values, blockSize, codeBounds(code), n + (n % 2));
  const packed = new Uint8Array(codes.length / 2);
  for (let j = 0; j < packed.length; j++) packed[j] = (codes[2 * j] << 4) | codes[2 * j + 1];
  const q: Quantized4bit = { quantType, blockSize, length: n, shape, dtype: options.dtype ?? 'float32', packed, absmax, code };
  if (!options.doubleQuant) return q;
  const { codes: absmaxCodes, nested } = nest(absmax);
  return { ...q, absmax: absmaxCodes, nested };
}

/**
 * The float32 absmax of every block: the stored values, or for double quantisation
 * `nested.code[absmax[j]] · nested.absmax[j >> 8] + offset` in float32 (bitsandbytes dequantize_blockwise + offset).
 *
 * @example
 * absmaxFloat32(quantizeNf4(w, { doubleQuant: true })).length; // Math.ceil(w.length / 64)
 */
export function absmaxFloat32(q: Quantized4bit): Float32Array {
  if (!q.nested) {
    if (!(q.absmax instanceof Float32Array)) throw new MmftError('E_CONFIG', 'a 4-bit tensor without nested state needs float32 absmax');
    return q.absmax;
  }
  const { absmax: outer, code, blockSize, offset } = q.nested;
  const scales = dequantizeBlocks(q.absmax, q.absmax.length, outer, code, blockSize);
  const off = f32(offset);
  for (let j = 0; j < scales.length; j++) scales[j] = f32(scales[j] + off);
  return scales;
}

/**
 * The float32 values of a 4-bit tensor: code[nibble] · absmax of its block (fp32 math as bitsandbytes;
 * bitsandbytes would then cast to `q.dtype`, which mmft computes in float32 and keeps as float32).
 *
 * @example
 * dequantize4bit(quantize4bit(new Float32Array([0.5, -1]), 'nf4')); // Float32Array [0.4407..., -1]: 0.5 is below the 12/13 midpoint 0.5017
 */
export function dequantize4bit(q: Quantized4bit): Float32Array {
  const n = q.length;
  if (q.packed.length < Math.ceil(n / 2)) {
    throw new MmftError('E_SHAPE', `4-bit tensor of ${n} elements needs ${Math.ceil(n / 2)} packed bytes, has ${q.packed.length}`);
  }
  const nibbles = new Uint8Array(n);
  for (let i = 0; i < n; i++) nibbles[i] = i % 2 ? q.packed[i >> 1] & 0xf : q.packed[i >> 1] >> 4;
  return dequantizeBlocks(nibbles, n, absmaxFloat32(q), q.code, q.blockSize);
}

/**
 * Stored bits per element: packed nibbles + absmax (8 bits nested, else 32) + nested float32 absmax;
 * the code maps and the JSON state are excluded (constant per tensor). 4.127 at blocksize 64 with
 * double quantisation, 4.5 without, for large n.
 *
 * @example
 * bitsPerParameter(quantizeNf4(new Float32Array(64 * 256), { doubleQuant: true })); // 4.126953125
 */
export function bitsPerParameter(q: Quantized4bit): number {
  const bytes = q.packed.length + q.absmax.byteLength + (q.nested ? q.nested.absmax.byteLength : 0);
  return (bytes * 8) / q.length;
}

/** quantize4bit(values, 'nf4', options) */
export const quantizeNf4 = (values: Float32Array, options: Quantize4Options = {}): Quantized4bit => quantize4bit(values, 'nf4', options);
/** quantize4bit(values, 'fp4', options) */
export const quantizeFp4 = (values: Float32Array, options: Quantize4Options = {}): Quantized4bit => quantize4bit(values, 'fp4', options);

function expectType(q: Quantized4bit, quantType: QuantType4): Quantized4bit {
  if (q.quantType !== quantType) {
    throw new MmftError('E_CONFIG', `dequantize${quantType === 'nf4' ? 'Nf4' : 'Fp4'} was given a ${q.quantType} tensor`, {
      hint: 'use dequantize4bit, which reads the type from the tensor',
    });
  }
  return q;
}

/** dequantize4bit for an NF4 tensor (refuses FP4). */
export const dequantizeNf4 = (q: Quantized4bit): Float32Array => dequantize4bit(expectType(q, 'nf4'));
/** dequantize4bit for an FP4 tensor (refuses NF4). */
export const dequantizeFp4 = (q: Quantized4bit): Float32Array => dequantize4bit(expectType(q, 'fp4'));
