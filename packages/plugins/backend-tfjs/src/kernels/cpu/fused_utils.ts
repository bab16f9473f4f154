// Runs a fused kernel's Float32Array math on the cpu backend: inputs are the backend's own
// arrays, outputs fresh arrays handed to the backend (tfjs-backend-cpu's kernels do the same).
import { util, type TensorInfo } from '@tensorflow/tfjs-core';
import type { MathBackendCPU } from '@tensorflow/tfjs-backend-cpu';

/**
 * Allocate float32 outputs of `outShapes`, run `body` on the inputs' and outputs' arrays.
 *
 * @example
 * const [y] = runOnCpu(backend, [x], [x.shape], ([xs], [ys]) => quickGeluForward(xs!, ys!));
 */
export function runOnCpu(
  backend: MathBackendCPU,
  inputs: readonly TensorInfo[],
  outShapes: ReadonlyArray<readonly number[]>,
  body: (ins: Float32Array[], outs: Float32Array[]) => void,
): TensorInfo[] {
  const outs = outShapes.map((shape) => new Float32Array(util.sizeFromShape([...shape])));
  body(
    inputs.map((info) => backend.data.get(info.dataId)!.values as Float32Array),
    outs,
  );
  return outs.map((values, i) => backend.makeTensorInfo([...outShapes[i]!], 'float32', values));
}
