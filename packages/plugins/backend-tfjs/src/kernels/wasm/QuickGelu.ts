// CLIP's quick_gelu x·σ(1.702·x) (mmft fused kernel; its gradient in QuickGeluGrad.ts) for the wasm backend, in
// C++ only (@mmft/native-kernels: a vectorised exp, split over cores). Without the addon they are
// not installed and @mmft/core runs the composite ops: a JavaScript loop lost to wasm's own
// vectorised Sigmoid and Multiply (docs/backends.md).
import { util, type KernelConfig, type KernelFunc, type TensorInfo } from '@tensorflow/tfjs-core';
import type { BackendWasm } from '@tensorflow/tfjs-backend-wasm';
import { QuickGelu } from '@mmft/core/kernels';
import { assertSameFloat32 } from '../fused/checks';
import { nativeFused, runOnHeap, runOnHeapNative } from './fused_utils';
import { quickGeluForward } from '../fused/gelu_impl';

function quickGelu(args: { inputs: { x: TensorInfo }; backend: BackendWasm }): TensorInfo {
  const {
    inputs: { x },
    backend,
  } = args;
  assertSameFloat32(QuickGelu, [x]);
  const n = util.sizeFromShape(x.shape);
  const native = nativeFused(QuickGelu);
  // Installed only with the addon; the loop serves a stale addon and empty tensors.
  if (!native || n === 0) return runOnHeap(backend, [x], [x.shape], ([xs], [y]) => quickGeluForward(xs!, y!))[0]!;
  return runOnHeapNative(backend, [x], [x.shape], (heap, [xo], [yo]) => native.MmftQuickGelu(heap, xo!, yo!, n))[0]!;
}

export const wasmQuickGelu: KernelConfig = { kernelName: QuickGelu, backendName: 'wasm', kernelFunc: quickGelu as unknown as KernelFunc };
