// Host reference of what each CUDA kernel computes (src/cu/*.cu), the yardstick of the GPU test:
// dequantise is exact (a float32 product of two float32 values, which Math.fround of the float64
// product reproduces bit for bit); the GEMV and GEMM sum in float32 in an order of their own, so
// the reference sums in float64 and gives, per output, the bound any float32 summation order of
// the same k products stays within: γ·Σ|w·x| with γ = k'·u/(1 − k'·u), u = 2⁻²⁴ and k' = k + 3
// (k − 1 additions, the product, and the GEMV's scale applied after a partial sum).
// It imports nothing at run time (operands are checked by the callers), so scripts/napi-check.js
// can load it on a GPU machine that has Node but not this repository's node_modules.
import type { Weight4bit } from './operands';

/** Element i of the weight, as a float32 value. */
export function weightAt(w: Weight4bit, i: number): number {
  const byte = w.packed[i >> 1];
  const nibble = i % 2 === 0 ? byte >> 4 : byte & 15;
  return Math.fround(w.code[nibble] * w.absmax[Math.floor(i / w.blockSize)]);
}

/** MmftDequantize4bit: the [rows, cols] weight as float32 (operands unchecked: see checkWeight4bit). */
export function dequantize4bitReference(w: Weight4bit): Float32Array {
  const out = new Float32Array(w.rows * w.cols);
  for (let i = 0; i < out.length; i++) out[i] = weightAt(w, i);
  return out;
}

/** Float32 summation bound factor for k products. */
export function gamma(k: number): number {
  const ku = (k + 3) * 2 ** -24;
  return ku / (1 - ku);
}

/**
 * MmftMatMul4bit: y = x·Wᵀ (transposeWeight; x [m, cols] → y [m, rows]) or x·W (x [m, rows] →
 * y [m, cols]), summed in float64, with `bound[j]` the largest error a float32 kernel may show.
 */
export function matmul4bitReference(x: Float32Array, w: Weight4bit, transposeWeight: boolean): { y: Float64Array; bound: Float64Array } {
  const inner = transposeWeight ? w.cols : w.rows;
  const m = Math.floor(x.length / inner);
  const outer = transposeWeight ? w.rows : w.cols;
  const weights = dequantize4bitReference(w);
  const y = new Float64Array(m * outer);
  const bound = new Float64Array(m * outer);
  const g = gamma(inner);
  for (let i = 0; i < m; i++) {
    for (let j = 0; j < outer; j++) {
      let sum = 0;
      let magnitude = 0;
      for (let c = 0; c < inner; c++) {
        const product = weights[transposeWeight ? j * w.cols + c : c * w.cols + j] * x[i * inner + c];
        sum += product;
        magnitude += Math.abs(product);
      }
      y[i * outer + j] = sum;
      bound[i * outer + j] = g * magnitude;
    }
  }
  return { y, bound };
}
