// Linear's weight gradient dW = dyᵀ·x over every position (mmft fused kernel) for the wasm
// backend, on the native GEMM only (Linear.ts says why).
import type { KernelConfig, KernelFunc, TensorInfo } from '@tensorflow/tfjs-core';
import type { BackendWasm } from '@tensorflow/tfjs-backend-wasm';
import { LinearGradWeight } from '@mmft/core/kernels';
import { nativeFused, runOnHeapNative } from './fused_utils';
import { check, float32, last, rowsOf } from './linear_utils';

function linearGradWeight(args: { inputs: { dy: TensorInfo; x: TensorInfo }; backend: BackendWasm }): TensorInfo {
  const {
    inputs: { dy, x },
    backend,
  } = args;
  const [out, inFeatures, rows] = [last(dy), last(x), rowsOf(x)];
  check(LinearGradWeight, float32([dy, x]) && rowsOf(dy) === rows, [dy, x], 'dy [..., out] and x [..., in] over the same positions');
  if (out * inFeatures === 0) return backend.makeOutput([out, inFeatures], 'float32');
  const native = nativeFused('MmftAddRepeated')!;
  // dW = dyᵀ·x: dy [rows, out] read transposed; a sum over positions (zeros when there are none).
  return runOnHeapNative(backend, [dy, x], [[out, inFeatures]], (heap, [go, xo], [dwo]) =>
    native.MmftGemm(
      heap,
      1,
      out,
      inFeatures,
      rows,
      { offset: go ?? 0, batch: 0, row: 1, col: out },
      { offset: xo ?? 0, batch: 0, row: inFeatures, col: 1 },
      dwo!,
    ),
  )[0]!;
}

export const wasmLinearGradWeight: KernelConfig = {
  kernelName: LinearGradWeight,
  backendName: 'wasm',
  kernelFunc: linearGradWeight as unknown as KernelFunc,
};
