// mmft's Sum for the wasm backend, for one case: reducing the leading axes of a float32 tensor
// ([rows, ...cols] → [...cols]), which is every bias and LayerNorm gradient in training. The stock
// kernel (tfjs-backend-wasm/src/kernels/Sum.ts) reduces only innermost axes, so it first
// transposes the whole tensor with its generic Transpose; summing rows in place skips that copy.
// Every other call goes to the stock kernel unchanged. With the native addon the rows are summed
// in C++ over all cores (sumRows), else in the JavaScript loop below.
import { util, type KernelConfig, type KernelFunc, type SumAttrs, type TensorInfo } from '@tensorflow/tfjs-core';
import type { BackendWasm } from '@tensorflow/tfjs-backend-wasm';
import { nativeFused, runOnHeapNative } from './fused_utils';

type KernelArgs = { inputs: { x: TensorInfo }; backend: BackendWasm; attrs: SumAttrs };

/** How many leading axes `axis` reduces, when it is exactly a proper prefix of them; else 0. */
function leadingAxes(shape: readonly number[], axis: SumAttrs['axis']): number {
  const axes = [...new Set(util.parseAxisParam(axis, [...shape]))].sort((p, q) => p - q);
  if (axes.length === 0 || axes.length >= shape.length) return 0;
  return axes.every((a, i) => a === i) ? axes.length : 0;
}

/**
 * Wrap the stock wasm Sum `stock` into the override (same name, backend and setupFunc).
 *
 * @example
 * registerKernel(makeWasmSum(getKernel('Sum', 'wasm')));
 */
export function makeWasmSum(stock: KernelConfig): KernelConfig {
  const stockKernel = stock.kernelFunc as unknown as (args: KernelArgs) => TensorInfo;

  function sum(args: KernelArgs): TensorInfo {
    const {
      inputs: { x },
      backend,
      attrs,
    } = args;
    const lead = x.dtype === 'float32' ? leadingAxes(x.shape, attrs.axis) : 0;
    if (lead === 0) return stockKernel(args);
    const rows = util.sizeFromShape(x.shape.slice(0, lead));
    const kept = x.shape.slice(lead);
    const cols = util.sizeFromShape(kept);
    const outShape = attrs.keepDims ? [...x.shape.slice(0, lead).map(() => 1), ...kept] : kept;
    const native = nativeFused('MmftSumRows');
    if (native && rows * cols > 0) {
      return runOnHeapNative(backend, [x], [outShape], (heap, [xo], [so]) => native.MmftSumRows(heap, xo!, so!, rows, cols))[0]!;
    }
    const out = backend.makeOutput(outShape, 'float32');
    const values = backend.typedArrayFromHeap(x) as Float32Array; // after makeOutput: it may grow the heap
    const target = backend.typedArrayFromHeap(out) as Float32Array;
    // Row by row keeps reads sequential; float64 partial sums hold cancellation no worse than the stock kernel.
    const acc = new Float64Array(cols);
    for (let r = 0; r < rows; r++) {
      const row = values.subarray(r * cols, (r + 1) * cols);
      for (let c = 0; c < cols; c++) acc[c]! += row[c]!;
    }
    target.set(acc);
    return out;
  }

  return { ...stock, kernelFunc: sum as unknown as KernelFunc };
}
