// Backward of the Gelu fused kernel for the cpu backend: dx = dy · d/dx in one pass.
// Math in ../fused/gelu_impl.ts.
import type { KernelConfig, KernelFunc, TensorInfo } from '@tensorflow/tfjs-core';
import type { MathBackendCPU } from '@tensorflow/tfjs-backend-cpu';
import { GeluGrad } from '@mmft/core/kernels';
import { assertSameFloat32 } from '../fused/checks';
import { geluBackward } from '../fused/gelu_impl';
import { runOnCpu } from './fused_utils';

function geluGrad(args: { inputs: { dy: TensorInfo; x: TensorInfo }; backend: MathBackendCPU }): TensorInfo {
  const {
    inputs: { dy, x },
    backend,
  } = args;
  assertSameFloat32(GeluGrad, [dy, x]);
  return runOnCpu(backend, [dy, x], [x.shape], ([g, xs], [dx]) => geluBackward(g!, xs!, dx!))[0]!;
}

export const cpuGeluGrad: KernelConfig = { kernelName: GeluGrad, backendName: 'cpu', kernelFunc: geluGrad as unknown as KernelFunc };
