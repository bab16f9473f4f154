// Softmax over the last axis (mmft fused kernel) for the wasm backend, in C++ only
// (@mmft/native-kernels' MmftSoftmax, rows split over cores). Without the addon it is not
// installed and @mmft/core runs tf.softmax.
import type { KernelConfig, KernelFunc, TensorInfo } from '@tensorflow/tfjs-core';
import type { BackendWasm } from '@tensorflow/tfjs-backend-wasm';
import { Softmax } from '@mmft/core/kernels';
import { nativeFused, runOnHeapNative } from './fused_utils';
import { empty, plainOperands } from './softmax_utils';

function softmax(args: { inputs: { logits: TensorInfo }; backend: BackendWasm }): TensorInfo {
  const {
    inputs: { logits },
    backend,
  } = args;
  const o = plainOperands(Softmax, logits);
  if (empty(o)) return backend.makeOutput([...logits.shape], 'float32');
  const native = nativeFused(Softmax)!;
  return runOnHeapNative(backend, [logits], [logits.shape], (heap, [xo], [yo]) => native.MmftSoftmax(heap, xo!, yo!, o))[0]!;
}

export const wasmSoftmax: KernelConfig = { kernelName: Softmax, backendName: 'wasm', kernelFunc: softmax as unknown as KernelFunc };
