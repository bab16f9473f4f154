// Backward of the QuickGelu fused kernel for the cpu backend: dx = dy · d/dx in one pass.
// Math in ../fused/gelu_impl.ts.
import type { KernelConfig, KernelFunc, TensorInfo } from '@tensorflow/tfjs-core';
import type { MathBackendCPU } from '@tensorflow/tfjs-backend-cpu';
import { QuickGeluGrad } from '@mmft/core/kernels';
import { assertSameFloat32 } from '../fused/checks';
import { quickGeluBackward } from '../fused/gelu_impl';
import { runOnCpu } from './fused_utils';

function quickGeluGrad(args: { inputs: { dy: TensorInfo; x: TensorInfo }; backend: MathBackendCPU }): TensorInfo {
  const {
    inputs: { dy, x },
    backend,
  } = args;
  assertSameFloat32(QuickGeluGrad, [dy, x]);
  return runOnCpu(backend, [dy, x], [x.shape], ([g, xs], [dx]) => quickGeluBackward(g!, xs!, dx!))[0]!;
}

export const cpuQuickGeluGrad: KernelConfig = {
  kernelName: QuickGeluGrad,
  backendName: 'cpu',
  kernelFunc: quickGeluGrad as unknown as KernelFunc,
};
