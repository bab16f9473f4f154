// @mmft/native-kernels: optional native CPU kernels, loaded if the addon was built on this machine
// (scripts/build-addon.js, node-gyp). Nothing here is required: `loadNativeKernels()` returns
// undefined with a reason and callers keep their pure tfjs path. Kernels work in place on a
// Float32Array — tfjs-backend-wasm's heap — so no tensor data is copied.
import * as os from 'node:os';
import * as path from 'node:path';
import { NATIVE_SYMBOLS, type Addon, type NativeSymbol } from './kernels';

export { NATIVE_SYMBOLS, type NativeSymbol } from './kernels';

export * from './types';
import {
  FUSED_PARALLEL_MIN_ELEMENTS,
  type AttentionOperands,
  type CrossEntropyOperands,
  type NativeKernels,
  type SoftmaxOperands,
} from './types';

// One wrapper per addon symbol: a symbol added to kernels.ts without one fails to compile.
const wrapped: Exclude<NativeSymbol, keyof NativeKernels> extends never ? true : never = true;
void wrapped;

/** Whether the kernels loaded, and why not. */
export type NativeKernelsStatus =
  { readonly available: true; readonly kernels: NativeKernels } | { readonly available: false; readonly reason: string };

const ADDON_PATH = path.join(__dirname, '..', 'build', 'Release', 'mmft_native.node');
let cached: NativeKernelsStatus | undefined;

function threadsFromEnv(hardware: number): number {
  const requested = Number.parseInt(process.env.MMFT_NATIVE_THREADS ?? '', 10);
  const available = typeof os.availableParallelism === 'function' ? os.availableParallelism() : hardware;
  return Number.isInteger(requested) && requested > 0 ? requested : Math.max(1, Math.min(available, hardware || available));
}

function load(): NativeKernelsStatus {
  if (process.env.MMFT_NATIVE === '0') return { available: false, reason: 'disabled by MMFT_NATIVE=0' };
  let addon: Addon;
  try {
    addon = require(ADDON_PATH) as Addon;
  } catch (error) {
    const message = (error instanceof Error ? error.message : String(error)).split('\n')[0];
    return {
      available: false,
      reason: `addon not built or not loadable (${message}); build it with: pnpm --filter @mmft/native-kernels build:native`,
    };
  }
  // A build/ folder from older sources exports other names: rebuilt, it matches this list.
  const missing = NATIVE_SYMBOLS.filter((name) => typeof addon[name] !== 'function');
  if (typeof addon.info !== 'function' || missing.length > 0) {
    return {
      available: false,
      reason: `the built addon lacks ${missing.join(', ') || 'info'} (built from older sources); rebuild it with: pnpm --filter @mmft/native-kernels build:native`,
    };
  }
  const { isa, hardwareThreads } = addon.info();
  const threads = threadsFromEnv(hardwareThreads);
  const fusedThreads = (elements: number) => (elements >= FUSED_PARALLEL_MIN_ELEMENTS ? threads : 1);
  const mask = (o: SoftmaxOperands) => o.mask ?? { offset: 0, batch: 0, head: 0, row: 0 };
  const kernels: NativeKernels = {
    isa,
    threads,
    MmftGemm: (heap, batches, m, n, k, a, b, cOffset) =>
      addon.MmftGemm(heap, batches, m, n, k, a.offset, a.batch, a.row, a.col, b.offset, b.batch, b.row, b.col, cOffset, threads),
    MmftLayerNorm: (heap, xOffset, gammaOffset, betaOffset, yOffset, rows, cols, eps) =>
      addon.MmftLayerNorm(heap, xOffset, gammaOffset, betaOffset, yOffset, rows, cols, eps, fusedThreads(rows * cols)),
    MmftLayerNormGrad: (heap, dyOffset, xOffset, gammaOffset, dxOffset, dgammaOffset, dbetaOffset, rows, cols, eps) =>
      addon.MmftLayerNormGrad(
        heap,
        dyOffset,
        xOffset,
        gammaOffset,
        dxOffset,
        dgammaOffset,
        dbetaOffset,
        rows,
        cols,
        eps,
        fusedThreads(rows * cols),
      ),
    MmftAdamWUpdate: (heap, inputs, outputs, n, { lr, beta1, beta2, eps, weightDecay, step }) =>
      // The coefficients exactly as backend-tfjs's adamw_impl.ts computes them, so both paths agree.
      addon.MmftAdamWUpdate(
        heap,
        inputs.p,
        inputs.g,
        inputs.m,
        inputs.v,
        outputs.p,
        outputs.m,
        outputs.v,
        n,
        beta1,
        beta2,
        1 - beta1,
        1 - beta2,
        eps,
        1 - lr * weightDecay,
        lr / (1 - beta1 ** step),
        Math.sqrt(1 - beta2 ** step),
        fusedThreads(n),
      ),
    MmftSumRows: (heap: Float32Array, xOffset: number, outOffset: number, rows: number, cols: number) =>
      addon.MmftSumRows(heap, xOffset, outOffset, rows, cols, fusedThreads(rows * cols)),
    MmftAddRepeated: (heap: Float32Array, aOffset: number, bOffset: number, outOffset: number, n: number, m: number) =>
      addon.MmftAddRepeated(heap, aOffset, bOffset, outOffset, n, m, fusedThreads(n)),
    MmftSumOfSquares: (heap: Float32Array, offsets: Float64Array, sizes: Float64Array) =>
      addon.MmftSumOfSquares(heap, offsets, sizes, threads),
    MmftQuickGelu: (heap: Float32Array, xOffset: number, yOffset: number, n: number) =>
      addon.MmftQuickGelu(heap, xOffset, yOffset, n, fusedThreads(n)),
    MmftQuickGeluGrad: (heap: Float32Array, dyOffset: number, xOffset: number, dxOffset: number, n: number) =>
      addon.MmftQuickGeluGrad(heap, dyOffset, xOffset, dxOffset, n, fusedThreads(n)),
    MmftSoftmax: (heap: Float32Array, xOffset: number, yOffset: number, o: SoftmaxOperands) => {
      const m = mask(o);
      addon.MmftSoftmax(
        heap,
        xOffset,
        m.offset,
        yOffset,
        o.batch,
        o.heads,
        o.rows,
        o.cols,
        m.batch,
        m.head,
        m.row,
        o.mask ? 1 : 0,
        o.minValue,
        fusedThreads(o.batch * o.heads * o.rows * o.cols),
      );
    },
    MmftSoftmaxGrad: (heap: Float32Array, at: { dy: number; y: number; x: number; dx: number }, o: SoftmaxOperands) => {
      const m = mask(o);
      addon.MmftSoftmaxGrad(
        heap,
        at.dy,
        at.y,
        at.x,
        m.offset,
        at.dx,
        o.batch,
        o.heads,
        o.rows,
        o.cols,
        m.batch,
        m.head,
        m.row,
        o.mask ? 1 : 0,
        o.minValue,
        fusedThreads(o.batch * o.heads * o.rows * o.cols),
      );
    },
    MmftAttention: (heap: Float32Array, at: { q: number; k: number; v: number; mask: number; context: number }, o: AttentionOperands) =>
      addon.MmftAttention(
        heap,
        at.q,
        at.k,
        at.v,
        at.mask,
        at.context,
        o.batch,
        o.heads,
        o.queries,
        o.keys,
        o.headDim,
        o.mask.batch,
        o.mask.head,
        o.mask.row,
        o.scale,
        o.minValue,
        threads,
      ),
    MmftAttentionGrad: (
      heap: Float32Array,
      at: { dContext: number; q: number; k: number; v: number; mask: number; dq: number; dk: number; dv: number },
      o: AttentionOperands,
    ) =>
      addon.MmftAttentionGrad(
        heap,
        at.dContext,
        at.q,
        at.k,
        at.v,
        at.mask,
        at.dq,
        at.dk,
        at.dv,
        o.batch,
        o.heads,
        o.queries,
        o.keys,
        o.headDim,
        o.mask.batch,
        o.mask.head,
        o.mask.row,
        o.scale,
        o.minValue,
        threads,
      ),
    MmftCrossEntropy: (heap: Float32Array, at: { logits: number; labels: number; loss: number; lse: number }, o: CrossEntropyOperands) =>
      addon.MmftCrossEntropy(heap, at.logits, at.labels, at.loss, at.lse, o.rows, o.cols, o.ignoreIndex, fusedThreads(o.rows * o.cols)),
    MmftCrossEntropyGrad: (
      heap: Float32Array,
      at: { dy: number; dlse: number; logits: number; labels: number; lse: number; dx: number },
      o: CrossEntropyOperands,
    ) =>
      addon.MmftCrossEntropyGrad(
        heap,
        at.dy,
        at.dlse,
        at.logits,
        at.labels,
        at.lse,
        at.dx,
        o.rows,
        o.cols,
        o.ignoreIndex,
        fusedThreads(o.rows * o.cols),
      ),
    MmftMatMulPacked16: (heap, at, o) =>
      addon.MmftMatMulPacked16(
        heap,
        o.m,
        o.rows,
        o.cols,
        at.x,
        at.weight,
        o.format === 'bf16' ? 0 : 1,
        o.transposeW ? 1 : 0,
        at.y,
        threads,
      ),
    MmftMatMul4bit: (heap, at, o) =>
      addon.MmftMatMul4bit(
        heap,
        o.m,
        o.rows,
        o.cols,
        o.blockSize,
        at.x,
        at.packed,
        at.absmax,
        at.code,
        o.transposeW ? 1 : 0,
        at.y,
        threads,
      ),
  };
  return { available: true, kernels };
}

/**
 * The native kernels, loaded once per process; `available: false` says why they are not there.
 *
 * @example
 * const status = nativeKernelsStatus();
 * if (status.available) status.kernels.MmftGemm(...);
 */
export function nativeKernelsStatus(): NativeKernelsStatus {
  return (cached ??= load());
}

/** The kernels, or undefined when the addon is not built (or MMFT_NATIVE=0). */
export function loadNativeKernels(): NativeKernels | undefined {
  const status = nativeKernelsStatus();
  return status.available ? status.kernels : undefined;
}
