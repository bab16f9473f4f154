// Building blocks for wasm kernel overrides: call another registered kernel of the same backend
// and move float32 rows between tensors on the wasm heap. Mirrors the helpers that
// tfjs-backend-wasm/src/kernels/{Reshape,Transpose,Slice}.ts export for its own kernels.
import { getKernel, util, type NamedAttrMap, type NamedTensorInfoMap, type TensorInfo } from '@tensorflow/tfjs-core';
import type { BackendWasm } from '@tensorflow/tfjs-backend-wasm';

/** Run the kernel registered as `kernelName` for `backendName` (whatever is registered now). */
export function runBackendKernel(
  kernelName: string,
  backendName: string,
  backend: BackendWasm,
  inputs: NamedTensorInfoMap,
  attrs: NamedAttrMap = {},
): TensorInfo {
  const kernel = getKernel(kernelName, backendName);
  util.assert(kernel !== undefined, () => `mmft kernel override needs the ${kernelName} kernel of backend ${backendName}`);
  return kernel.kernelFunc({ inputs, backend, attrs }) as TensorInfo;
}

/** Swap the last two axes: [..., R, C] → [..., C, R] (a new tensor; dispose it). */
export function transposeInner(x: TensorInfo, backendName: string, backend: BackendWasm): TensorInfo {
  const rank = x.shape.length;
  const perm = [...Array(rank).keys()];
  [perm[rank - 2], perm[rank - 1]] = [perm[rank - 1] as number, perm[rank - 2] as number];
  return runBackendKernel('Transpose', backendName, backend, { x }, { perm });
}

/** A view of `x` with a new shape (shares the data; dispose it). */
export function reshapeTo(x: TensorInfo, shape: number[], backendName: string, backend: BackendWasm): TensorInfo {
  return runBackendKernel('Reshape', backendName, backend, { x }, { shape });
}

/**
 * Copy `count` floats from `src` at `srcOffset` into `dst` at `dstOffset`.
 * Views are taken here, after every allocation: growing the wasm heap detaches older views.
 */
export function copyFloats(
  backend: BackendWasm,
  src: TensorInfo,
  srcOffset: number,
  dst: TensorInfo,
  dstOffset: number,
  count: number,
): void {
  const from = backend.typedArrayFromHeap(src);
  const to = backend.typedArrayFromHeap(dst);
  to.set(from.subarray(srcOffset, srcOffset + count), dstOffset);
}

/**
 * The whole wasm heap as floats, found through any tensor `on` it. Take it after every
 * allocation: growing the heap replaces the buffer.
 */
export function heapFloats(backend: BackendWasm, on: TensorInfo): Float32Array {
  const buffer = backend.typedArrayFromHeap(on).buffer;
  return new Float32Array(buffer, 0, buffer.byteLength >>> 2);
}

/** Release intermediates made inside a kernel (the engine only tracks a kernel's outputs). */
export function disposeAll(backend: BackendWasm, infos: readonly TensorInfo[]): void {
  for (const info of infos) backend.disposeData(info.dataId);
}
