// mmft's BatchMatMul for the wasm backend. The stock kernel (tfjs-backend-wasm/src/kernels/
// BatchMatMul.ts → src/cc/batch_mat_mul_impl.cc) uses XNNPACK only when neither input is
// transposed and both batches are 1; anything else runs a scalar loop 10–40× slower. With the
// optional native kernels (@mmft/native-kernels) every float32 product runs there, on the wasm
// heap in place, on all cores; without them this kernel rewrites every call into calls that take
// the XNNPACK path, then delegates to the stock kernel.
import { broadcast_util, util, type BatchMatMulAttrs, type KernelConfig, type KernelFunc, type TensorInfo } from '@tensorflow/tfjs-core';
import type { BackendWasm } from '@tensorflow/tfjs-backend-wasm';
import type { NativeKernels } from '@mmft/native-kernels';
import { copyFloats, disposeAll, heapFloats, reshapeTo, transposeInner } from './kernel_utils';

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
 * The whole product in the native GEMM, reading both operands where they lie on the wasm heap:
 * transposes become strides and a batch of 1 against a larger one a batch stride of 0.
 */
function nativeBatchMatMul({ inputs: { a, b }, backend, attrs }: KernelArgs, native: NativeKernels): TensorInfo {
  const rank = (x: TensorInfo, fromEnd: number) => x.shape[x.shape.length - fromEnd] as number;
  const [m, k] = attrs.transposeA ? [rank(a, 1), rank(a, 2)] : [rank(a, 2), rank(a, 1)];
  const n = attrs.transposeB ? rank(b, 2) : rank(b, 1);
  const batchA = util.sizeFromShape(a.shape.slice(0, -2));
  const batchB = util.sizeFromShape(b.shape.slice(0, -2));
  const outer = broadcast_util.assertAndGetBroadcastShape(a.shape.slice(0, -2), b.shape.slice(0, -2));
  const out = backend.makeOutput([...outer, m, n], 'float32');
  const batches = Math.max(batchA, batchB);
  if (batches * m * n === 0) return out;
  const heap = heapFloats(backend, out); // after makeOutput: allocation may have grown the heap
  const offset = (x: TensorInfo) => backend.getMemoryOffset(x.dataId) / Float32Array.BYTES_PER_ELEMENT;
  // [B, M, K] × [K, N] with A untransposed: its rows are contiguous, so it is one [B·M, K] product.
  const merge = batchB === 1 && batchA > 1 && !attrs.transposeA;
  const [slices, rows] = merge ? [1, batchA * m] : [batches, m];
  native.MmftGemm(
    heap,
    slices,
    rows,
    n,
    k,
    { offset: offset(a), batch: batchA === 1 ? 0 : m * k, row: attrs.transposeA ? 1 : k, col: attrs.transposeA ? m : 1 },
    { offset: offset(b), batch: batchB === 1 ? 0 : k * n, row: attrs.transposeB ? 1 : n, col: attrs.transposeB ? k : 1 },
    offset(out),
  );
  return out;
}

/**
 * Wrap the stock wasm BatchMatMul `stock` into the override (same name, backend and setupFunc,
 * so it also works when installed before the backend initialises). With `native`, float32
 * products run in the native GEMM; otherwise they are rewritten onto XNNPACK's fast path.
 *
 * @example
 * registerKernel(makeWasmBatchMatMul(getKernel('BatchMatMul', 'wasm'), loadNativeKernels()));
 */
export function makeWasmBatchMatMul(stock: KernelConfig, native?: NativeKernels): KernelConfig {
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
    if (native) return nativeBatchMatMul(args, native);
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
