// Test fixtures shared by the reference test and the GPU test: the bitsandbytes code tables and
// random 4-bit weights (any byte is a valid pair of codes, so random bytes exercise every nibble).
import type { Weight4bit } from './operands';

/** bitsandbytes/functional.py get_4bit_type('nf4'), as float32. */
export const NF4 = Float32Array.from([
  -1.0, -0.6961928009986877, -0.5250730514526367, -0.39491748809814453, -0.28444138169288635, -0.18477343022823334, -0.09105003625154495,
  0.0, 0.07958029955625534, 0.16093020141124725, 0.24611230194568634, 0.33791524171829224, 0.44070982933044434, 0.5626170039176941,
  0.7229568362236023, 1.0,
]);

/** get_4bit_type('fp4'): e2m1 values in bitsandbytes' order over 12; its `-0` is a Python int, so +0.0. */
export const FP4 = Float32Array.from([0, 0.0625, 8, 12, 4, 6, 2, 3, 0, -0.0625, -8, -12, -4, -6, -2, -3], (v) => v / 12);

/** A small deterministic generator (LCG), so failures reproduce. */
export function rng(seed: number): () => number {
  let state = seed >>> 0;
  return () => {
    state = (Math.imul(state, 1664525) + 1013904223) >>> 0;
    return state / 2 ** 32;
  };
}

export function randomWeight(rows: number, cols: number, blockSize: number, seed: number, code: Float32Array = NF4): Weight4bit {
  const next = rng(seed);
  const n = rows * cols;
  const packed = Uint8Array.from({ length: Math.ceil(n / 2) }, () => Math.floor(next() * 256));
  const absmax = Float32Array.from({ length: Math.ceil(n / blockSize) }, () => 0.01 + 3 * next());
  return { packed, absmax, code, rows, cols, blockSize };
}

export function randomX(length: number, seed: number): Float32Array {
  const next = rng(seed);
  return Float32Array.from({ length }, () => 2 * next() - 1);
}
