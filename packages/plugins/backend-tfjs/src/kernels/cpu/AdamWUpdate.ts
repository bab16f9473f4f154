// One AdamW step of one parameter (mmft fused kernel) for the cpu backend: one kernel instead
// of ~13 elementwise ones. It returns new tensors rather than writing its inputs: a variable's
// data may be shared with other live tensors (tf.clone, Identity and assign share data ids), so
// writing in place could change them. Math in ../fused/adamw_impl.ts.
import type { KernelConfig, KernelFunc, TensorInfo } from '@tensorflow/tfjs-core';
import type { MathBackendCPU } from '@tensorflow/tfjs-backend-cpu';
import { AdamWUpdate, type AdamWUpdateAttrs } from '@mmft/core/kernels';
import { assertSameFloat32 } from '../fused/checks';
import { adamwUpdate } from '../fused/adamw_impl';
import { runOnCpu } from './fused_utils';

type Inputs = { param: TensorInfo; grad: TensorInfo; expAvg: TensorInfo; expAvgSq: TensorInfo };

function adamw(args: { inputs: Inputs; backend: MathBackendCPU; attrs: AdamWUpdateAttrs }): TensorInfo[] {
  const {
    inputs: { param, grad, expAvg, expAvgSq },
    backend,
    attrs,
  } = args;
  assertSameFloat32(AdamWUpdate, [param, grad, expAvg, expAvgSq]);
  const shape = param.shape;
  return runOnCpu(backend, [param, grad, expAvg, expAvgSq], [shape, shape, shape], ([p, g, m, v], [p2, m2, v2]) =>
    adamwUpdate(p!, g!, m!, v!, p2!, m2!, v2!, attrs),
  );
}

export const cpuAdamWUpdate: KernelConfig = { kernelName: AdamWUpdate, backendName: 'cpu', kernelFunc: adamw as unknown as KernelFunc };
