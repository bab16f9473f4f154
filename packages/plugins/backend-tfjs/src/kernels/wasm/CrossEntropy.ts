// Cross-entropy over the last axis (mmft fused kernel) for the wasm backend, in C++ only
// (@mmft/native-kernels' MmftCrossEntropy, rows split over cores): the per-row loss and
// log-sum-exp read straight from the logits on the heap. Without the addon it is not installed
// and @mmft/core's causalLmLoss runs its tfjs ops.
import type { KernelConfig, KernelFunc, TensorInfo } from '@tensorflow/tfjs-core';
import type { BackendWasm } from '@tensorflow/tfjs-backend-wasm';
import { CrossEntropy, type CrossEntropyAttrs } from '@mmft/core/kernels';
import { crossEntropyOperands } from '../fused/cross_entropy_impl';
import { allNonEmpty, nativeFused, runOnHeapNative } from './fused_utils';

function crossEntropy(args: {
  inputs: { logits: TensorInfo; labels: TensorInfo };
  backend: BackendWasm;
  attrs: CrossEntropyAttrs;
}): TensorInfo[] {
  const {
    inputs: { logits, labels },
    backend,
    attrs: { ignoreIndex },
  } = args;
  const { rows, cols } = crossEntropyOperands(CrossEntropy, logits, labels);
  // Empty tensors may have no heap offset. No rows: nothing to score; no vocabulary: log Σ over
  // nothing is −∞ and no label is valid (as the native kernel).
  if (!allNonEmpty([logits, labels])) {
    const [loss, lse] = [backend.makeOutput([...labels.shape], 'float32'), backend.makeOutput([...labels.shape], 'float32')];
    if (rows > 0) {
      const ids = backend.typedArrayFromHeap(labels) as Int32Array;
      backend.typedArrayFromHeap(lse).fill(-Infinity);
      backend.typedArrayFromHeap(loss).set(Array.from(ids, (id) => (id === ignoreIndex ? 0 : NaN)));
    }
    return [loss, lse];
  }
  const native = nativeFused(CrossEntropy)!;
  return runOnHeapNative(backend, [logits, labels], [labels.shape, labels.shape], (heap, [xo, yo], [lo, so]) =>
    native.MmftCrossEntropy(heap, { logits: xo!, labels: yo!, loss: lo!, lse: so! }, { rows, cols, ignoreIndex }),
  );
}

export const wasmCrossEntropy: KernelConfig = {
  kernelName: CrossEntropy,
  backendName: 'wasm',
  kernelFunc: crossEntropy as unknown as KernelFunc,
};
