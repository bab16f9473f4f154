// Linear's input gradient dx = dy·W (mmft fused kernel) for the wasm backend, on the native GEMM
// only (Linear.ts says why).
import type { KernelConfig, KernelFunc, TensorInfo } from '@tensorflow/tfjs-core';
import type { BackendWasm } from '@tensorflow/tfjs-backend-wasm';
import { LinearGradInput } from '@mmft/core/kernels';
import { nativeFused, runOnHeapNative } from './fused_utils';
import { check, float32, last, rowsOf } from './linear_utils';

function linearGradInput(args: { inputs: { dy: TensorInfo; weight: TensorInfo }; backend: BackendWasm }): TensorInfo {
  const {
    inputs: { dy, weight },
    backend,
  } = args;
  const [out, inFeatures] = weight.shape as [number, number];
  check(
    LinearGradInput,
    float32([dy, weight]) && weight.shape.length === 2 && last(dy) === out,
    [dy, weight],
    'dy [..., out] and weight [out, in]',
  );
  const outShape = [...dy.shape.slice(0, -1), inFeatures];
  const rows = rowsOf(dy);
  if (rows * inFeatures === 0) return backend.makeOutput(outShape, 'float32');
  const native = nativeFused('MmftAddRepeated')!;
  // dx = dy·W (a sum over out: zeros when out is 0, which the GEMM writes for k = 0).
  return runOnHeapNative(backend, [dy, weight], [outShape], (heap, [go, wo], [dxo]) =>
    native.MmftGemm(
      heap,
      1,
      rows,
      inFeatures,
      out,
      { offset: go ?? 0, batch: 0, row: out, col: 1 },
      { offset: wo ?? 0, batch: 0, row: inFeatures, col: 1 },
      dxo!,
    ),
  )[0]!;
}

export const wasmLinearGradInput: KernelConfig = {
  kernelName: LinearGradInput,
  backendName: 'wasm',
  kernelFunc: linearGradInput as unknown as KernelFunc,
};
