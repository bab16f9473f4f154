// UnsortedSegmentSum for the wasm backend, which does not ship it (tfjs-backend-wasm 4.22): the
// gradient of tf.gather (Embedding lookups) calls it, so without it nothing with an embedding
// trains on wasm. Semantics of tfjs-backend-cpu/src/kernels/UnsortedSegmentSum.ts: out[s] = sum of
// rows x[i] with segmentIds[i] == s, ids outside [0, numSegments) dropped. O(rows × width) in JS.
import {
  UnsortedSegmentSum,
  util,
  type KernelConfig,
  type TensorInfo,
  type UnsortedSegmentSumAttrs,
  type UnsortedSegmentSumInputs,
} from '@tensorflow/tfjs-core';
import type { BackendWasm } from '@tensorflow/tfjs-backend-wasm';

function unsortedSegmentSum(args: { inputs: UnsortedSegmentSumInputs; backend: BackendWasm; attrs: UnsortedSegmentSumAttrs }): TensorInfo {
  const { x, segmentIds } = args.inputs as { x: TensorInfo; segmentIds: TensorInfo };
  const { numSegments } = args.attrs;
  const backend = args.backend;
  util.assert(x.dtype === 'float32' || x.dtype === 'int32', () => `UnsortedSegmentSum (wasm, mmft): dtype ${x.dtype} is not supported`);
  // segmentIds covers the leading axes of x; each id selects a row of the trailing axes.
  const idCount = util.sizeFromShape(segmentIds.shape);
  const width = idCount === 0 ? 0 : util.sizeFromShape(x.shape) / idCount;
  const outShape = [numSegments, ...x.shape.slice(segmentIds.shape.length)];
  const out = backend.makeOutput(outShape, x.dtype);
  const ids = backend.typedArrayFromHeap(segmentIds);
  const values = backend.typedArrayFromHeap(x);
  const target = backend.typedArrayFromHeap(out); // taken after makeOutput: allocation may move the heap
  target.fill(0);
  for (let row = 0; row < idCount; row++) {
    const segment = ids[row]!;
    if (segment < 0 || segment >= numSegments) continue;
    const from = row * width;
    const to = segment * width;
    for (let k = 0; k < width; k++) target[to + k]! += values[from + k]!;
  }
  return out;
}

/** Registered only where the backend lacks the kernel (see install.ts). */
export const wasmUnsortedSegmentSum: KernelConfig = {
  kernelName: UnsortedSegmentSum,
  backendName: 'wasm',
  kernelFunc: unsortedSegmentSum as unknown as KernelConfig['kernelFunc'],
};
