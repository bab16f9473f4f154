// Backward of quick_gelu (mmft fused kernel) for the wasm backend, in C++ only
// (@mmft/native-kernels' MmftQuickGeluGrad); QuickGelu.ts says why.
import { util, type KernelConfig, type KernelFunc, type TensorInfo } from '@tensorflow/tfjs-core';
import type { BackendWasm } from '@tensorflow/tfjs-backend-wasm';
import { QuickGeluGrad } from '@mmft/core/kernels';
import { assertSameFloat32 } from '../fused/checks';
import { nativeFused, runOnHeap, runOnHeapNative } from './fused_utils';
import { quickGeluBackward } from '../fused/gelu_impl';

function quickGeluGrad(args: { inputs: { dy: TensorInfo; x: TensorInfo }; backend: BackendWasm }): TensorInfo {
  const {
    inputs: { dy, x },
    backend,
  } = args;
  assertSameFloat32(QuickGeluGrad, [dy, x]);
  const n = util.sizeFromShape(x.shape);
  const native = nativeFused(QuickGeluGrad);
  if (!native || n === 0) return runOnHeap(backend, [dy, x], [x.shape], ([g, xs], [dx]) => quickGeluBackward(g!, xs!, dx!))[0]!;
  return runOnHeapNative(backend, [dy, x], [x.shape], (heap, [go, xo], [dxo]) => native.MmftQuickGeluGrad(heap, go!, xo!, dxo!, n))[0]!;
}

export const wasmQuickGeluGrad: KernelConfig = {
  kernelName: QuickGeluGrad,
  backendName: 'wasm',
  kernelFunc: quickGeluGrad as unknown as KernelFunc,
};
