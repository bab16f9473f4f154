// CLIP's quick_gelu x·σ(1.702·x) (mmft fused kernel) for the cpu backend: one kernel instead of
// Multiply, Sigmoid, Multiply. Math in ../fused/gelu_impl.ts.
import type { KernelConfig, KernelFunc, TensorInfo } from '@tensorflow/tfjs-core';
import type { MathBackendCPU } from '@tensorflow/tfjs-backend-cpu';
import { QuickGelu } from '@mmft/core/kernels';
import { assertSameFloat32 } from '../fused/checks';
import { quickGeluForward } from '../fused/gelu_impl';
import { runOnCpu } from './fused_utils';

function quickGelu(args: { inputs: { x: TensorInfo }; backend: MathBackendCPU }): TensorInfo {
  const {
    inputs: { x },
    backend,
  } = args;
  assertSameFloat32(QuickGelu, [x]);
  return runOnCpu(backend, [x], [x.shape], ([xs], [y]) => quickGeluForward(xs!, y!))[0]!;
}

export const cpuQuickGelu: KernelConfig = { kernelName: QuickGelu, backendName: 'cpu', kernelFunc: quickGelu as unknown as KernelFunc };
