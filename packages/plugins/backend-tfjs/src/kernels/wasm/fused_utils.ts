// Runs a fused kernel's Float32Array math on the wasm heap in place: outputs are allocated
// first, then views of inputs and outputs are taken (allocating may grow the heap and detach
// older views), and the math reads and writes those views directly. No tensor is copied.
// Where the optional native addon (@mmft/native-kernels) is built and has the kernel, the same
// math runs there instead, on the same heap at the tensors' offsets (runOnHeapNative).
import { util, type TensorInfo } from '@tensorflow/tfjs-core';
import type { BackendWasm } from '@tensorflow/tfjs-backend-wasm';
import { nativeKernelsStatus, type NativeKernels, type NativeSymbol } from '@mmft/native-kernels';
import { heapFloats } from './kernel_utils';

/**
 * The native kernels when the addon loaded (not MMFT_NATIVE=0) and has the symbol `name` (the
 * kernel's own name, @mmft/native-kernels' kernels.ts); otherwise undefined and the caller runs
 * its JavaScript loop.
 *
 * @example
 * const native = nativeFused(LayerNorm); // then native.MmftLayerNorm(heap, ...)
 */
export function nativeFused(name: NativeSymbol): NativeKernels | undefined {
  const status = nativeKernelsStatus();
  return status.available && typeof status.kernels[name] === 'function' ? status.kernels : undefined;
}

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

/**
 * Allocate float32 outputs of `outShapes`, then run `body` with the whole wasm heap and the float
 * offsets of `inputs` and outputs on it (for the native kernels, which bounds-check them).
 *
 * @example
 * const [y] = runOnHeapNative(backend, [x], [x.shape], (heap, [xo], [yo]) => native.MmftLayerNorm(heap, xo!, ...));
 */
export function runOnHeapNative(
  backend: BackendWasm,
  inputs: readonly TensorInfo[],
  outShapes: ReadonlyArray<readonly number[]>,
  body: (heap: Float32Array, ins: number[], outs: number[]) => void,
): TensorInfo[] {
  const outs = outShapes.map((shape) => backend.makeOutput([...shape], 'float32'));
  const offset = (info: TensorInfo) => backend.getMemoryOffset(info.dataId) / Float32Array.BYTES_PER_ELEMENT;
  // Views after every allocation: growing the heap detaches older ones.
  body(heapFloats(backend, outs[0] ?? inputs[0]!), inputs.map(offset), outs.map(offset));
  return outs;
}

/** Whether every tensor has at least one element (an empty one may have no heap offset). */
export const allNonEmpty = (infos: readonly TensorInfo[]): boolean => infos.every((info) => util.sizeFromShape(info.shape) > 0);
