// Backward of Softmax (mmft fused kernel) for the wasm backend, in C++ only
// (@mmft/native-kernels' MmftSoftmaxGrad): dx = y·(dy − Σ dy·y) per row.
import type { KernelConfig, KernelFunc, TensorInfo } from '@tensorflow/tfjs-core';
import type { BackendWasm } from '@tensorflow/tfjs-backend-wasm';
import { SoftmaxGrad } from '@mmft/core/kernels';
import { assertSameFloat32 } from '../fused/checks';
import { nativeFused, runOnHeapNative } from './fused_utils';
import { empty, plainOperands } from './softmax_utils';

function softmaxGrad(args: { inputs: { dy: TensorInfo; y: TensorInfo }; backend: BackendWasm }): TensorInfo {
  const {
    inputs: { dy, y },
    backend,
  } = args;
  assertSameFloat32(SoftmaxGrad, [dy, y]);
  const o = plainOperands(SoftmaxGrad, y);
  if (empty(o)) return backend.makeOutput([...y.shape], 'float32');
  const native = nativeFused(SoftmaxGrad)!;
  return runOnHeapNative(backend, [dy, y], [y.shape], (heap, [go, yo], [dxo]) =>
    native.MmftSoftmaxGrad(heap, { dy: go!, y: yo!, x: yo!, dx: dxo! }, o),
  )[0]!;
}

export const wasmSoftmaxGrad: KernelConfig = {
  kernelName: SoftmaxGrad,
  backendName: 'wasm',
  kernelFunc: softmaxGrad as unknown as KernelFunc,
};
