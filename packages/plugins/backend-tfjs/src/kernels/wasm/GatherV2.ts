// GatherV2 for the wasm backend, for the case every embedding lookup takes: rows of a table
// (axis 0, no batch dims). The stock kernel (tfjs-backend-wasm/src/kernels/GatherV2.ts) checks
// each index through a fresh closure, then gathers element by element through generic strides:
// ~4 ms for 1024 rows of 128 floats in a small-CLIP step. Copying whole rows is one memcpy each.
// Every other call goes to the stock kernel unchanged.
import { util, type GatherV2Attrs, type KernelConfig, type KernelFunc, type TensorInfo } from '@tensorflow/tfjs-core';
import type { BackendWasm } from '@tensorflow/tfjs-backend-wasm';

type KernelArgs = { inputs: { x: TensorInfo; indices: TensorInfo }; backend: BackendWasm; attrs: GatherV2Attrs };

/**
 * Wrap the stock wasm GatherV2 `stock` into the override (same name, backend and setupFunc).
 *
 * @example
 * registerKernel(makeWasmGatherV2(getKernel('GatherV2', 'wasm')));
 */
export function makeWasmGatherV2(stock: KernelConfig): KernelConfig {
  const stockKernel = stock.kernelFunc as unknown as (args: KernelArgs) => TensorInfo;

  function gatherV2(args: KernelArgs): TensorInfo {
    const {
      inputs: { x, indices },
      backend,
      attrs,
    } = args;
    const axis = x.shape.length === 0 ? -1 : util.parseAxisParam(attrs.axis, [...x.shape])[0];
    const rowsCase =
      axis === 0 && (attrs.batchDims ?? 0) === 0 && (x.dtype === 'float32' || x.dtype === 'int32') && indices.dtype === 'int32';
    if (!rowsCase) return stockKernel(args);
    const rows = x.shape[0]!;
    const width = util.sizeFromShape(x.shape.slice(1));
    const out = backend.makeOutput([...indices.shape, ...x.shape.slice(1)], x.dtype);
    // Views after makeOutput: allocating may grow the heap and detach older ones.
    const ids = backend.typedArrayFromHeap(indices) as Int32Array;
    const table = backend.typedArrayFromHeap(x) as Float32Array | Int32Array;
    const target = backend.typedArrayFromHeap(out) as Float32Array | Int32Array;
    for (let i = 0; i < ids.length; i++) {
      const row = ids[i]!;
      if (!(row >= 0 && row < rows)) {
        backend.disposeData(out.dataId);
        // The stock kernel's message, so callers see the same error either way.
        throw new Error(`GatherV2: the index value ${row} is not in [0, ${rows - 1}]`);
      }
      target.set(table.subarray(row * width, (row + 1) * width), i * width);
    }
    return out;
  }

  return { ...stock, kernelFunc: gatherV2 as unknown as KernelFunc };
}
