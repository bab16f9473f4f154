// MmftMatMul4bit's and MmftDequantize4bit's math in JavaScript (the cpu backend's kernels,
// cpu/MatMul4bit.ts): one row of the 4-bit weight is decoded at a time into a float32 buffer, so no
// float32 copy of the whole weight exists. The decode is bitsandbytes' dequantize_4bit
// (bitsandbytes/backends/default/ops.py _dequantize_4bit_impl: byte >> 4 for element 2j, byte & 0xF
// for 2j + 1, code[nibble] · absmax[i / blocksize] in float32); the format is @mmft/core/quant.
import { util, type TensorInfo } from '@tensorflow/tfjs-core';
import type { Dequantize4bitAttrs, MatMul4bitAttrs } from '@mmft/core/kernels';

const shapes = (infos: readonly TensorInfo[]): string => infos.map((i) => `[${i.shape.join(', ')}] ${i.dtype}`).join(', ');

/** Checks the packed weight's three tensors against a [rows, cols] weight in blocks of blockSize. */
export function assert4bitWeight(
  kernelName: string,
  packed: TensorInfo,
  absmax: TensorInfo,
  code: TensorInfo,
  attrs: Dequantize4bitAttrs,
): void {
  const { rows, cols, blockSize } = attrs;
  const size = rows * cols;
  util.assert(
    packed.dtype === 'int32' &&
      util.sizeFromShape(packed.shape) * 8 >= size &&
      absmax.dtype === 'float32' &&
      util.sizeFromShape(absmax.shape) >= Math.ceil(size / blockSize) &&
      code.dtype === 'float32' &&
      util.sizeFromShape(code.shape) === 16 &&
      Number.isInteger(Math.log2(blockSize)),
    () =>
      `${kernelName} (mmft fused kernel) needs an int32 packed weight holding ${rows}×${cols} 4-bit codes, float32 absmax ` +
      `[${Math.ceil(size / blockSize)}] (blocks of ${blockSize}) and a float32 code [16]; got packed, absmax, code ${shapes([packed, absmax, code])}`,
  );
}

/** The inner size k and output width n of the product, after checking the inputs. */
export function matMul4bitShape(
  kernelName: string,
  inputs: { x: TensorInfo; packed: TensorInfo; absmax: TensorInfo; code: TensorInfo },
  attrs: MatMul4bitAttrs,
): { k: number; n: number } {
  const { x, packed, absmax, code } = inputs;
  const { rows, cols, transposeWeight } = attrs;
  const k = transposeWeight ? cols : rows;
  const n = transposeWeight ? rows : cols;
  util.assert(
    x.dtype === 'float32' && x.shape.length >= 1 && x.shape[x.shape.length - 1] === k,
    () => `${kernelName} (mmft fused kernel) needs float32 x [..., ${k}] for a ${rows}×${cols} weight; got x ${shapes([x])}`,
  );
  assert4bitWeight(kernelName, packed, absmax, code, attrs);
  return { k, n };
}

/** The packed bytes of an int32 view (little-endian, as the int32 tensor holds them). */
export const packedBytes = (words: Int32Array): Uint8Array => new Uint8Array(words.buffer, words.byteOffset, words.byteLength);

/** Decodes weight elements [start, start + count) into `out`. */
export function decode4bit(
  bytes: Uint8Array,
  absmax: Float32Array,
  code: Float32Array,
  blockSize: number,
  start: number,
  count: number,
  out: Float32Array,
): void {
  const shift = Math.log2(blockSize);
  for (let j = 0; j < count; j++) {
    const i = start + j;
    const byte = bytes[i >> 1]!;
    const nibble = i & 1 ? byte & 0xf : byte >> 4;
    // Math.fround: bitsandbytes multiplies in float32.
    out[j] = Math.fround(code[nibble]! * absmax[i >> shift]!);
  }
}

/** W [rows, cols] decoded (MmftDequantize4bit). */
export function dequantize4bit(bytes: Uint8Array, absmax: Float32Array, code: Float32Array, attrs: Dequantize4bitAttrs): Float32Array {
  const out = new Float32Array(attrs.rows * attrs.cols);
  decode4bit(bytes, absmax, code, attrs.blockSize, 0, out.length, out);
  return out;
}

/** y [m, n] = x [m, k] · Wᵀ (transposeWeight: W is [n, k]) or x · W (W is [k, n]), W decoded row by row. */
export function matMul4bit(
  x: Float32Array,
  weight: { bytes: Uint8Array; absmax: Float32Array; code: Float32Array },
  m: number,
  attrs: MatMul4bitAttrs,
  y: Float32Array,
): void {
  const { rows, cols, blockSize, transposeWeight } = attrs;
  const { bytes, absmax, code } = weight;
  const row = new Float32Array(cols);
  if (transposeWeight) {
    // y[i, r] = Σ_c x[i, c]·W[r, c]: one decoded weight row serves every input row.
    for (let r = 0; r < rows; r++) {
      decode4bit(bytes, absmax, code, blockSize, r * cols, cols, row);
      for (let i = 0; i < m; i++) {
        let sum = 0;
        const base = i * cols;
        for (let c = 0; c < cols; c++) sum += x[base + c]! * row[c]!;
        y[i * rows + r] = sum;
      }
    }
    return;
  }
  // y[i, c] = Σ_r x[i, r]·W[r, c]: accumulate one weight row at a time.
  y.fill(0);
  for (let r = 0; r < rows; r++) {
    decode4bit(bytes, absmax, code, blockSize, r * cols, cols, row);
    for (let i = 0; i < m; i++) {
      const a = x[i * rows + r]!;
      if (a === 0) continue;
      const base = i * cols;
      for (let c = 0; c < cols; c++) y[base + c] += a * row[c]!;
    }
  }
}
