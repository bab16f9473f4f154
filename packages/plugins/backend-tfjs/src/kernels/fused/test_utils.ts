// Shared by the fused-kernel tests: run a function on a backend with mmft's fused kernels
// installed or not, and compare results within float32 tolerance.
import { expect } from '@jest/globals';
import * as tf from '@tensorflow/tfjs-core';
import { installKernelOverrides } from '../install';

export type Backend = 'cpu' | 'wasm';

/** Run `fn` on `backend`, with the fused kernels installed (`fused`) or the composite ops. */
export async function on<T>(backend: Backend, fused: boolean, fn: () => T): Promise<T> {
  await tf.setBackend(backend);
  installKernelOverrides(backend, { fused });
  return fn();
}

/** Deterministic values of mixed sign and size. */
export const values = (shape: number[], seed = 0): tf.Tensor =>
  tf.tensor(
    Array.from({ length: tf.util.sizeFromShape(shape) }, (_, i) => Math.sin((i + seed) * 0.37) * (1 + ((i + seed) % 7)) * 0.5),
    shape,
  );

/** max |a − b| ≤ tol · max(1, max |b|). */
export function expectClose(actual: ArrayLike<number>, expected: ArrayLike<number>, tol = 1e-5): void {
  expect(actual.length).toBe(expected.length);
  let scale = 1;
  for (let i = 0; i < expected.length; i++) scale = Math.max(scale, Math.abs(expected[i]!));
  let worst = 0;
  for (let i = 0; i < expected.length; i++) worst = Math.max(worst, Math.abs(actual[i]! - expected[i]!));
  expect(worst).toBeLessThanOrEqual(tol * scale);
}

/** Names of the kernels `fn` launches. */
export async function kernelsOf(fn: () => tf.TensorContainer): Promise<string[]> {
  const info = await tf.profile(fn);
  return info.kernels.map((k) => k.name);
}
