// mmft's BatchMatMul for the wasm backend. The stock kernel (tfjs-backend-wasm/src/kernels/
// BatchMatMul.ts → src/cc/batch_mat_mul_impl.cc) uses XNNPACK only when neither input is
// transposed and both batches are 1; anything else runs a scalar loop 10–40× slower. This kernel
// rewrites every call into calls that take the XNNPACK path, then delegates to the stock kernel.
import { broadcast_util, util, type KernelConfig, type KernelFunc, type TensorInfo } from '@tensorflow/tfjs-core';
import type { BackendWasm } from '@tensorflow/tfjs-backend-wasm';
import type { BatchMatMulAttrs } from '../kernel_names';
import { copyFloats, disposeAll, reshapeTo, transposeInner } from './kernel_utils';

/**
 * Below this many multiply-adds per batch slice the stock batched loop beats one XNNPACK call
 * per slice. Measured on wasm, 1 thread: 8192 MACs/slice 0.7× (slower), 16384 1.5–1.6×,
 * 32768 2–2.7×, ≥131072 5–6.5× (see docs/backends.md).
 */
export const MIN_MACS_PER_SLICE_FOR_LOOP = 1 << 14;

// tfjs types inputs as optional map entries; the engine always passes both for this kernel.
type KernelArgs = { inputs: { a: TensorInfo; b: TensorInfo }; backend: BackendWasm; attrs: BatchMatMulAttrs };
type Kernel = (args: KernelArgs) => TensorInfo;

/** Matrix dims of an untransposed pair: a [..., M, K] × b [..., K, N]. */
interface Plan {
  readonly batchA: number;
  readonly batchB: number;
  readonly m: number;
  readonly k: number;
  readonly n: number;
  /** Leading dims of the result: the broadcast of both, as the stock kernel computes them. */
  readonly outer: number[];
}

function plan(a: TensorInfo, b: TensorInfo): Plan {
  const batchA = util.sizeFromShape(a.shape.slice(0, -2));
  const batchB = util.sizeFromShape(b.shape.slice(0, -2));
  const [m, k] = a.shape.slice(-2) as [number, number];
  const n = b.shape[b.shape.length - 1] as number;
  const outer = broadcast_util.assertAndGetBroadcastShape(a.shape.slice(0, -2), b.shape.slice(0, -2));
  return { batchA, batchB, m, k, n, outer };
}

/** Inputs the rewrite handles; anything else goes to the stock kernel, which raises its own error. */
function rewritable({ inputs: { a, b }, attrs }: KernelArgs): boolean {
  if (a.dtype !== 'float32' || b.dtype !== 'float32' || a.shape.length < 2 || b.shape.length < 2) return false;
  const innerA = attrs.transposeA ? a.shape[a.shape.length - 2] : a.shape[a.shape.length - 1];
  const innerB = attrs.transposeB ? b.shape[b.shape.length - 1] : b.shape[b.shape.length - 2];
  const batchA = util.sizeFromShape(a.shape.slice(0, -2));
  const batchB = util.sizeFromShape(b.shape.slice(0, -2));
  if (innerA !== innerB || !(batchA === batchB || batchA === 1 || batchB === 1)) return false;
  try {
    broadcast_util.assertAndGetBroadcastShape(a.shape.slice(0, -2), b.shape.slice(0, -2));
    return true;
  } catch {
    return false; // the stock kernel raises tfjs's broadcast error for these shapes
  }
}

/**
 * Wrap the stock wasm BatchMatMul `stock` into the override (same name, backend and setupFunc,
 * so it also works when installed before the backend initialises).
 *
 * @example
 * registerKernel(makeWasmBatchMatMul(getKernel('BatchMatMul', 'wasm')));
 */
export function makeWasmBatchMatMul(stock: KernelConfig): KernelConfig {
  const stockKernel = stock.kernelFunc as unknown as Kernel;
  const backendName = stock.backendName;

  const untransposed = (backend: BackendWasm, a: TensorInfo, b: TensorInfo): TensorInfo =>
    stockKernel({ inputs: { a, b }, backend, attrs: { transposeA: false, transposeB: false } });

  // [B, M, K] × [1, K, N] is one [B·M, K] × [K, N] product: a single XNNPACK call.
  function mergedBroadcast(backend: BackendWasm, a: TensorInfo, b: TensorInfo, p: Plan): TensorInfo {
    const a2 = reshapeTo(a, [1, p.batchA * p.m, p.k], backendName, backend);
    const b2 = reshapeTo(b, [1, p.k, p.n], backendName, backend);
    const product = untransposed(backend, a2, b2);
    const out = reshapeTo(product, [...p.outer, p.m, p.n], backendName, backend);
    disposeAll(backend, [a2, b2, product]);
    return out;
  }

  // One batch-1 product per slice. Each b slice is a fresh tensor: XNNPACK caches packed
  // weights by tensor id, so refilling one buffer would reuse stale weights.
  function perSlice(backend: BackendWasm, a: TensorInfo, b: TensorInfo, p: Plan): TensorInfo {
    const batch = Math.max(p.batchA, p.batchB);
    const out = backend.makeOutput([...p.outer, p.m, p.n], 'float32');
    const sizeA = p.m * p.k;
    const sizeB = p.k * p.n;
    const aSlice = p.batchA === 1 ? reshapeTo(a, [1, p.m, p.k], backendName, backend) : backend.makeOutput([1, p.m, p.k], 'float32');
    for (let i = 0; i < batch; i++) {
      if (p.batchA > 1) copyFloats(backend, a, i * sizeA, aSlice, 0, sizeA);
      const bSlice = p.batchB === 1 ? reshapeTo(b, [1, p.k, p.n], backendName, backend) : backend.makeOutput([1, p.k, p.n], 'float32');
      if (p.batchB > 1) copyFloats(backend, b, i * sizeB, bSlice, 0, sizeB);
      const product = untransposed(backend, aSlice, bSlice);
      copyFloats(backend, product, 0, out, i * p.m * p.n, p.m * p.n);
      disposeAll(backend, [bSlice, product]);
    }
    disposeAll(backend, [aSlice]);
    return out;
  }

  function batchMatMul(args: KernelArgs): TensorInfo {
    if (!rewritable(args)) return stockKernel(args);
    const { inputs, backend, attrs } = args;
    const temps: TensorInfo[] = [];
    try {
      // Transposing explicitly costs one copy; the stock transposed loop costs 10–40× the product.
      const a = attrs.transposeA ? transposeInner(inputs.a, backendName, backend) : inputs.a;
      if (attrs.transposeA) temps.push(a);
      const b = attrs.transposeB ? transposeInner(inputs.b, backendName, backend) : inputs.b;
      if (attrs.transposeB) temps.push(b);
      const p = plan(a, b);
      if (p.batchA > 1 && p.batchB === 1) return mergedBroadcast(backend, a, b, p);
      if (Math.max(p.batchA, p.batchB) > 1 && p.m * p.k * p.n >= MIN_MACS_PER_SLICE_FOR_LOOP) return perSlice(backend, a, b, p);
      return untransposed(backend, a, b);
    } finally {
      disposeAll(backend, temps);
    }
  }

  return { ...stock, kernelFunc: batchMatMul as unknown as KernelFunc };
}
