// Cross-entropy over the last axis (mmft fused kernel) for the cpu backend: the per-row loss and
// log-sum-exp in one pass over the logits, no [N, V] intermediate. Math in ../fused/cross_entropy_impl.ts.
import type { KernelConfig, KernelFunc, TensorInfo } from '@tensorflow/tfjs-core';
import type { MathBackendCPU } from '@tensorflow/tfjs-backend-cpu';
import { CrossEntropy, type CrossEntropyAttrs } from '@mmft/core/kernels';
import { crossEntropyForward, crossEntropyOperands } from '../fused/cross_entropy_impl';
import { runOnCpu } from './fused_utils';

function crossEntropy(args: {
  inputs: { logits: TensorInfo; labels: TensorInfo };
  backend: MathBackendCPU;
  attrs: CrossEntropyAttrs;
}): TensorInfo[] {
  const {
    inputs: { logits, labels },
    backend,
    attrs: { ignoreIndex },
  } = args;
  const { cols } = crossEntropyOperands(CrossEntropy, logits, labels);
  const ids = backend.data.get(labels.dataId)!.values as Int32Array;
  return runOnCpu(backend, [logits], [labels.shape, labels.shape], ([x], [loss, lse]) =>
    crossEntropyForward(x!, ids, loss!, lse!, cols, ignoreIndex),
  );
}

export const cpuCrossEntropy: KernelConfig = {
  kernelName: CrossEntropy,
  backendName: 'cpu',
  kernelFunc: crossEntropy as unknown as KernelFunc,
};
