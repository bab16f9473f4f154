// Add for the wasm backend with the native addon, for the two cases a training step is full of:
// tensors of one shape (residual connections, gradient accumulation) and a tensor plus a row
// repeated over it (every bias). The stock kernel (tfjs-backend-wasm/src/kernels/Add.ts →
// binary_impl.cc) is one thread with a generic broadcast loop; addRepeated is vectorised and
// split over cores for large tensors. Every other call goes to the stock kernel unchanged.
import { util, type KernelConfig, type KernelFunc, type TensorInfo } from '@tensorflow/tfjs-core';
import type { BackendWasm } from '@tensorflow/tfjs-backend-wasm';
import { nativeFused, runOnHeapNative } from './fused_utils';

type KernelArgs = { inputs: { a: TensorInfo; b: TensorInfo }; backend: BackendWasm };

/** Whether `small` broadcasts over `large` as a repeated block: its shape, leading 1s dropped, ends `large`'s. */
function repeatsOver(small: readonly number[], large: readonly number[]): boolean {
  const core = small.slice(small.findIndex((d) => d !== 1) === -1 ? small.length : small.findIndex((d) => d !== 1));
  if (small.length > large.length || core.length === 0) return false;
  return util.arraysEqual(core, large.slice(large.length - core.length));
}

/**
 * Wrap the stock wasm Add `stock` into the override (same name, backend and setupFunc).
 *
 * @example
 * registerKernel(makeWasmAdd(getKernel('Add', 'wasm')));
 */
export function makeWasmAdd(stock: KernelConfig): KernelConfig {
  const stockKernel = stock.kernelFunc as unknown as (args: KernelArgs) => TensorInfo;

  function add(args: KernelArgs): TensorInfo {
    const {
      inputs: { a, b },
      backend,
    } = args;
    const native = nativeFused('MmftAddRepeated');
    if (!native || a.dtype !== 'float32' || b.dtype !== 'float32') return stockKernel(args);
    // Addition commutes: the larger operand is the one repeated over.
    const [large, small] = util.sizeFromShape(a.shape) >= util.sizeFromShape(b.shape) ? [a, b] : [b, a];
    const n = util.sizeFromShape(large.shape);
    const m = util.sizeFromShape(small.shape);
    const fits = util.arraysEqual(a.shape, b.shape) || repeatsOver(small.shape, large.shape);
    if (!fits || n === 0 || m === 0) return stockKernel(args);
    return runOnHeapNative(backend, [large, small], [large.shape], (heap, [lo, so], [out]) =>
      native.MmftAddRepeated(heap, lo!, so!, out!, n, m),
    )[0]!;
  }

  return { ...stock, kernelFunc: add as unknown as KernelFunc };
}
