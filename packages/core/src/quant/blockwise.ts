// Blockwise absmax scaling and nearest-code search shared by the 4-bit weights and the 8-bit nested
// absmax, as bitsandbytes' pure-torch default path does them (bitsandbytes/backends/default/ops.py,
// quantize_4bit and quantize_blockwise): float32 throughout, midpoint buckets, ties to the lower code.

import { bucketize, type CodeBounds } from './codebooks';

const f32 = Math.fround;

// torch clamps absmax to min=1e-38 (a float32 subnormal once cast) before taking its reciprocal, so an
// all-zero block scales to 0 and takes the code of 0.0 instead of the NaN codes of a 1/0 scale.
const TINY = f32(1e-38);

/** Per-block absmax and the code index of every element (one byte each, unpacked). */
export interface BlockCodes {
  absmax: Float32Array;
  codes: Uint8Array;
}

/**
 * Scales each block by its absmax and picks the nearest code of every element. Full blocks multiply by
 * the float32 reciprocal and keep the raw absmax; a short last block divides by its absmax clamped to
 * 1e-38 and stores that clamped value (the torch path handles the remainder separately, and so do we,
 * so an all-zero short block stores 1e-38 while an all-zero full block stores 0). `padTo` pads the code
 * array with the code of 0.0 (the odd-length pad of the 4-bit path).
 */
export function blockCodes(values: Float32Array, blockSize: number, { bounds, order }: CodeBounds, padTo = values.length): BlockCodes {
  const n = values.length;
  const full = n - (n % blockSize);
  const absmax = new Float32Array(Math.ceil(n / blockSize));
  const codes = new Uint8Array(padTo);
  const clamp = (x: number): number => (x > 1 ? 1 : x < -1 ? -1 : x);
  for (let start = 0, b = 0; start < n; start += blockSize, b++) {
    const end = Math.min(start + blockSize, n);
    let am = 0;
    for (let i = start; i < end; i++) am = Math.max(am, Math.abs(values[i]));
    if (start < full) {
      absmax[b] = am;
      const inv = f32(1 / Math.max(am, TINY));
      for (let i = start; i < end; i++) codes[i] = order[bucketize(clamp(f32(values[i] * inv)), bounds)];
    } else {
      const div = Math.max(am, TINY);
      absmax[b] = div;
      for (let i = start; i < end; i++) codes[i] = order[bucketize(clamp(f32(values[i] / div)), bounds)];
    }
  }
  if (padTo > n) codes.fill(order[bucketize(0, bounds)], n);
  return { absmax, codes };
}

/** code[index] · absmax of the element's block, in float32, for every element (dequantize_blockwise). */
export function dequantizeBlocks(
  codes: ArrayLike<number>,
  n: number,
  absmax: Float32Array,
  code: Float32Array,
  blockSize: number,
): Float32Array {
  const out = new Float32Array(n);
  for (let i = 0; i < n; i++) out[i] = f32(code[codes[i]] * absmax[Math.floor(i / blockSize)]);
  return out;
}
