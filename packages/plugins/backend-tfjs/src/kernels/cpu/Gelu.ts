// Exact GELU x·Φ(x) (mmft fused kernel) for the cpu backend: one kernel instead of
// the four kernels of 0.5·x·(1 + erf(x/√2)). Math in ../fused/gelu_impl.ts.
import type { KernelConfig, KernelFunc, TensorInfo } from '@tensorflow/tfjs-core';
import type { MathBackendCPU } from '@tensorflow/tfjs-backend-cpu';
import { Gelu } from '@mmft/core/kernels';
import { assertSameFloat32 } from '../fused/checks';
import { geluForward } from '../fused/gelu_impl';
import { runOnCpu } from './fused_utils';

function gelu(args: { inputs: { x: TensorInfo }; backend: MathBackendCPU }): TensorInfo {
  const {
    inputs: { x },
    backend,
  } = args;
  assertSameFloat32(Gelu, [x]);
  return runOnCpu(backend, [x], [x.shape], ([xs], [y]) => geluForward(xs!, y!))[0]!;
}

export const cpuGelu: KernelConfig = { kernelName: Gelu, backendName: 'cpu', kernelFunc: gelu as unknown as KernelFunc };
