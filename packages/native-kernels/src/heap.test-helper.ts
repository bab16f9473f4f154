// Shared by the native kernels' tests: deterministic inputs, a NaN-filled heap with operands laid
// out at offsets that do not start at 0, and the comparisons against float64 references.
import { expect } from '@jest/globals';

/** `size` float32-representable values in [shift − scale, shift + scale), from an LCG seeded by `seed`. */
export function values(size: number, seed: number, scale = 1, shift = 0): Float64Array {
  const out = new Float64Array(size);
  let state = seed >>> 0;
  for (let i = 0; i < size; i++) {
    state = (Math.imul(state, 1664525) + 1013904223) >>> 0;
    out[i] = Math.fround((state / 2 ** 31 - 1) * scale + shift);
  }
  return out;
}

/**
 * A heap of NaNs with `parts` (arrays to copy in, or a number of floats to leave for an output)
 * laid out one after another from float 5, and 5 NaNs after the last; returns their offsets.
 */
export function layout(parts: Array<Float64Array | number>): { heap: Float32Array; at: number[] } {
  const at: number[] = [];
  let next = 5;
  for (const part of parts) {
    at.push(next);
    next += typeof part === 'number' ? part : part.length;
  }
  const heap = new Float32Array(next + 5).fill(Number.NaN);
  parts.forEach((part, i) => {
    if (typeof part !== 'number') heap.set(part, at[i]);
  });
  return { heap, at };
}

/** max |actual − expected| ≤ tol · max(1e-30, max |expected|): relative to the largest value. */
export function expectClose(actual: Float32Array, expected: Float64Array, tol = 1e-6): void {
  expect(actual.length).toBe(expected.length);
  let [scale, worst] = [1e-30, 0];
  for (let i = 0; i < expected.length; i++) {
    scale = Math.max(scale, Math.abs(expected[i]!));
    worst = Math.max(worst, Math.abs(actual[i]! - expected[i]!));
  }
  expect(worst / scale).toBeLessThanOrEqual(tol);
}

/** The floats from `end` on are still NaN: nothing was written past the last output. */
export function expectNothingPast(heap: Float32Array, end: number): void {
  expect(Array.from(heap.subarray(end)).every(Number.isNaN)).toBe(true);
}
