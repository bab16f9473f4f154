// Backward of the CrossEntropy fused kernel for the cpu backend: dlogits from the logits and the
// saved log-sum-exp (both outputs' gradients), one pass per row. Math in ../fused/cross_entropy_impl.ts.
import type { KernelConfig, KernelFunc, TensorInfo } from '@tensorflow/tfjs-core';
import type { MathBackendCPU } from '@tensorflow/tfjs-backend-cpu';
import { CrossEntropyGrad, type CrossEntropyGradAttrs } from '@mmft/core/kernels';
import { crossEntropyBackward, crossEntropyOperands } from '../fused/cross_entropy_impl';
import { runOnCpu } from './fused_utils';

function crossEntropyGrad(args: {
  inputs: { dy: TensorInfo; dlse: TensorInfo; logits: TensorInfo; labels: TensorInfo; lse: TensorInfo };
  backend: MathBackendCPU;
  attrs: CrossEntropyGradAttrs;
}): TensorInfo {
  const {
    inputs: { dy, dlse, logits, labels, lse },
    backend,
    attrs: { ignoreIndex },
  } = args;
  const { cols } = crossEntropyOperands(CrossEntropyGrad, logits, labels, [dy, dlse, lse]);
  const ids = backend.data.get(labels.dataId)!.values as Int32Array;
  return runOnCpu(backend, [dy, dlse, logits, lse], [logits.shape], ([g, h, x, l], [dx]) =>
    crossEntropyBackward(g!, h!, x!, ids, l!, dx!, cols, ignoreIndex),
  )[0]!;
}

export const cpuCrossEntropyGrad: KernelConfig = {
  kernelName: CrossEntropyGrad,
  backendName: 'cpu',
  kernelFunc: crossEntropyGrad as unknown as KernelFunc,
};
