// The sum of squares of many tensors in one kernel (mmft fused kernel) for the wasm backend, in
// C++ only: a gradient's global norm for clipping (torch's clip_grad_norm_). The composite path
// runs a Square and a Sum per parameter and an AddN (~290 launches for a small CLIP's 142
// parameters); this is one call over all of them, in float64, split over the pool by parameter.
// Without the addon it is not installed and the trainer runs the composite ops.
import { util, type KernelConfig, type KernelFunc, type TensorInfo } from '@tensorflow/tfjs-core';
import type { BackendWasm } from '@tensorflow/tfjs-backend-wasm';
import { SumOfSquares } from '@mmft/core/kernels';
import { heapFloats } from './kernel_utils';
import { nativeFused } from './fused_utils';

function sumOfSquares(args: { inputs: TensorInfo[] | Record<string, TensorInfo>; backend: BackendWasm }): TensorInfo {
  const { backend } = args;
  const inputs = Object.values(args.inputs);
  util.assert(
    inputs.every((t) => t.dtype === 'float32'),
    () => `${SumOfSquares} (mmft fused kernel) needs float32 tensors; got ${inputs.map((t) => t.dtype).join(', ')}`,
  );
  const out = backend.makeOutput([], 'float32');
  const parts = inputs.filter((t) => util.sizeFromShape(t.shape) > 0);
  const offsets = Float64Array.from(parts, (t) => backend.getMemoryOffset(t.dataId) / Float32Array.BYTES_PER_ELEMENT);
  const sizes = Float64Array.from(parts, (t) => util.sizeFromShape(t.shape));
  const heap = heapFloats(backend, out); // after makeOutput: allocating may grow the heap
  const total = parts.length === 0 ? 0 : nativeFused(SumOfSquares)!.MmftSumOfSquares(heap, offsets, sizes);
  (backend.typedArrayFromHeap(out) as Float32Array)[0] = total;
  return out;
}

export const wasmSumOfSquares: KernelConfig = {
  kernelName: SumOfSquares,
  backendName: 'wasm',
  kernelFunc: sumOfSquares as unknown as KernelFunc,
};
