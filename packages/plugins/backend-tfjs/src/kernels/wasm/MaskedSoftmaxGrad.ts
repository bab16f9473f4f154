// Backward of MaskedSoftmax (mmft fused kernel) for the wasm backend, in C++ only
// (@mmft/native-kernels' MmftSoftmaxGrad with a mask): it replaces nine kernels (the softmax
// gradient's Multiply, Sum, Sub, Multiply and the clamp's GreaterEqual, Cast, Multiply ...).
import type { KernelConfig, KernelFunc, TensorInfo } from '@tensorflow/tfjs-core';
import type { BackendWasm } from '@tensorflow/tfjs-backend-wasm';
import { MaskedSoftmaxGrad, SoftmaxGrad, type MaskedSoftmaxAttrs } from '@mmft/core/kernels';
import { assertSameFloat32 } from '../fused/checks';
import { nativeFused, runOnHeapNative } from './fused_utils';
import { empty, maskedOperands, withMaskAt } from './softmax_utils';

function maskedSoftmaxGrad(args: {
  inputs: { dy: TensorInfo; y: TensorInfo; logits: TensorInfo; mask: TensorInfo };
  backend: BackendWasm;
  attrs: MaskedSoftmaxAttrs;
}): TensorInfo {
  const {
    inputs: { dy, y, logits, mask },
    backend,
    attrs,
  } = args;
  assertSameFloat32(MaskedSoftmaxGrad, [dy, y, logits]);
  const o = maskedOperands(MaskedSoftmaxGrad, logits, mask, attrs.minValue);
  if (empty(o)) return backend.makeOutput([...logits.shape], 'float32');
  const native = nativeFused(SoftmaxGrad)!;
  return runOnHeapNative(backend, [dy, y, logits, mask], [logits.shape], (heap, [go, yo, xo, mo], [dxo]) =>
    native.MmftSoftmaxGrad(heap, { dy: go!, y: yo!, x: xo!, dx: dxo! }, withMaskAt(o, mo!)),
  )[0]!;
}

export const wasmMaskedSoftmaxGrad: KernelConfig = {
  kernelName: MaskedSoftmaxGrad,
  backendName: 'wasm',
  kernelFunc: maskedSoftmaxGrad as unknown as KernelFunc,
};
