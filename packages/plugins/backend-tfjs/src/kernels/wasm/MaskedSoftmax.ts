// Attention's masked softmax (mmft fused kernel) for the wasm backend, in C++ only
// (@mmft/native-kernels' MmftSoftmax with a mask): it replaces Add, Maximum and Softmax. Without
// the addon it is not installed and @mmft/core runs the composite ops.
import type { KernelConfig, KernelFunc, TensorInfo } from '@tensorflow/tfjs-core';
import type { BackendWasm } from '@tensorflow/tfjs-backend-wasm';
import { MaskedSoftmax, Softmax, type MaskedSoftmaxAttrs } from '@mmft/core/kernels';
import { nativeFused, runOnHeapNative } from './fused_utils';
import { empty, maskedOperands, withMaskAt } from './softmax_utils';

function maskedSoftmax(args: {
  inputs: { logits: TensorInfo; mask: TensorInfo };
  backend: BackendWasm;
  attrs: MaskedSoftmaxAttrs;
}): TensorInfo {
  const {
    inputs: { logits, mask },
    backend,
    attrs,
  } = args;
  const o = maskedOperands(MaskedSoftmax, logits, mask, attrs.minValue);
  if (empty(o)) return backend.makeOutput([...logits.shape], 'float32');
  const native = nativeFused(Softmax)!;
  return runOnHeapNative(backend, [logits, mask], [logits.shape], (heap, [xo, mo], [yo]) =>
    native.MmftSoftmax(heap, xo!, yo!, withMaskAt(o, mo!)),
  )[0]!;
}

export const wasmMaskedSoftmax: KernelConfig = {
  kernelName: MaskedSoftmax,
  backendName: 'wasm',
  kernelFunc: maskedSoftmax as unknown as KernelFunc,
};
