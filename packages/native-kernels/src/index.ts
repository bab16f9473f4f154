// @mmft/native-kernels: optional native CPU kernels, loaded if the addon was built on this machine
// (scripts/build-addon.js, node-gyp). Nothing here is required: `loadNativeKernels()` returns
// undefined with a reason and callers keep their pure tfjs path. Kernels work in place on a
// Float32Array — tfjs-backend-wasm's heap — so no tensor data is copied.
import * as os from 'node:os';
import * as path from 'node:path';

/** Where an operand's element (slice b, row r, column c) lies: offset + b·batch + r·row + c·col floats. */
export interface StridedOperand {
  readonly offset: number;
  readonly batch: number;
  readonly row: number;
  readonly col: number;
}

/** The addon's raw functions (see src/cc/addon.cc). */
interface Addon {
  gemm(
    heap: Float32Array,
    batches: number, m: number, n: number, k: number,
    aOffset: number, aBatch: number, aRow: number, aCol: number,
    bOffset: number, bBatch: number, bRow: number, bCol: number,
    cOffset: number, threads: number,
  ): void;
  info(): { isa: string; hardwareThreads: number };
}

/** The loaded kernels. */
export interface NativeKernels {
  /** Instruction set the GEMM micro-kernel runs on: avx512, avx2 or generic. */
  readonly isa: string;
  /** Threads a kernel uses (MMFT_NATIVE_THREADS, else the cores Node may use). */
  readonly threads: number;
  /**
   * C[b] = A[b]·B[b] for `batches` slices: A is m×k, B is k×n (any strides, so transposes are
   * free), C is written row-major m×n at `cOffset` with slice stride m·n. A batch stride of 0
   * broadcasts that operand. All offsets and strides count floats of `heap`; out-of-range
   * operands throw a RangeError.
   *
   * @example
   * kernels.gemm(heap, 1, 2, 2, 3, { offset: 0, batch: 0, row: 3, col: 1 }, { offset: 6, batch: 0, row: 2, col: 1 }, 12);
   */
  gemm(heap: Float32Array, batches: number, m: number, n: number, k: number, a: StridedOperand, b: StridedOperand, cOffset: number): void;
}

/** Whether the kernels loaded, and why not. */
export type NativeKernelsStatus = { readonly available: true; readonly kernels: NativeKernels } | { readonly available: false; readonly reason: string };

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
    return { available: false, reason: `addon not built or not loadable (${message}); build it with: pnpm --filter @mmft/native-kernels build:native` };
  }
  const { isa, hardwareThreads } = addon.info();
  const threads = threadsFromEnv(hardwareThreads);
  const kernels: NativeKernels = {
    isa,
    threads,
    gemm: (heap, batches, m, n, k, a, b, cOffset) =>
      addon.gemm(heap, batches, m, n, k, a.offset, a.batch, a.row, a.col, b.offset, b.batch, b.row, b.col, cOffset, threads),
  };
  return { available: true, kernels };
}

/**
 * The native kernels, loaded once per process; `available: false` says why they are not there.
 *
 * @example
 * const status = nativeKernelsStatus();
 * if (status.available) status.kernels.gemm(...);
 */
export function nativeKernelsStatus(): NativeKernelsStatus {
  return (cached ??= load());
}

/** The kernels, or undefined when the addon is not built (or MMFT_NATIVE=0). */
export function loadNativeKernels(): NativeKernels | undefined {
  const status = nativeKernelsStatus();
  return status.available ? status.kernels : undefined;
}
