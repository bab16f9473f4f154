// Runs a fused kernel's Float32Array math on the wasm heap in place: outputs are allocated
// first, then views of inputs and outputs are taken (allocating may grow the heap and detach
// older views), and the math reads and writes those views directly. No tensor is copied.
import type { TensorInfo } from '@tensorflow/tfjs-core';
import type { BackendWasm } from '@tensorflow/tfjs-backend-wasm';

/**
 * Allocate float32 outputs of `outShapes`, run `body` on views of `inputs` and outputs.
 *
 * @example
 * const [y] = runOnHeap(backend, [x], [x.shape], ([xs], [ys]) => quickGeluForward(xs!, ys!));
 */
export function runOnHeap(
  backend: BackendWasm,
  inputs: readonly TensorInfo[],
  outShapes: ReadonlyArray<readonly number[]>,
  body: (ins: Float32Array[], outs: Float32Array[]) => void,
): TensorInfo[] {
  const outs = outShapes.map((shape) => backend.makeOutput([...shape], 'float32'));
  const view = (info: TensorInfo) => backend.typedArrayFromHeap(info) as Float32Array;
  body(inputs.map(view), outs.map(view));
  return outs;
}
