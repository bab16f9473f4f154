// Backward of CrossEntropy (mmft fused kernel) for the wasm backend, in C++ only
// (@mmft/native-kernels' MmftCrossEntropyGrad): dlogits = exp(logits − lse)·(dy + dlse) −
// onehot·dy per row, written once, from the logits and the forward pass's lse.
import type { KernelConfig, KernelFunc, TensorInfo } from '@tensorflow/tfjs-core';
import type { BackendWasm } from '@tensorflow/tfjs-backend-wasm';
import { CrossEntropyGrad, type CrossEntropyGradAttrs } from '@mmft/core/kernels';
import { crossEntropyOperands } from '../fused/cross_entropy_impl';
import { allNonEmpty, nativeFused, runOnHeapNative } from './fused_utils';

function crossEntropyGrad(args: {
  inputs: { dy: TensorInfo; dlse: TensorInfo; logits: TensorInfo; labels: TensorInfo; lse: TensorInfo };
  backend: BackendWasm;
  attrs: CrossEntropyGradAttrs;
}): TensorInfo {
  const {
    inputs: { dy, dlse, logits, labels, lse },
    backend,
    attrs: { ignoreIndex },
  } = args;
  const { rows, cols } = crossEntropyOperands(CrossEntropyGrad, logits, labels, [dy, dlse, lse]);
  if (!allNonEmpty([logits])) return backend.makeOutput([...logits.shape], 'float32');
  const native = nativeFused(CrossEntropyGrad)!;
  return runOnHeapNative(backend, [dy, dlse, logits, labels, lse], [logits.shape], (heap, [go, ho, xo, yo, so], [dxo]) =>
    native.MmftCrossEntropyGrad(heap, { dy: go!, dlse: ho!, logits: xo!, labels: yo!, lse: so!, dx: dxo! }, { rows, cols, ignoreIndex }),
  )[0]!;
}

export const wasmCrossEntropyGrad: KernelConfig = {
  kernelName: CrossEntropyGrad,
  backendName: 'wasm',
  kernelFunc: crossEntropyGrad as unknown as KernelFunc,
};
