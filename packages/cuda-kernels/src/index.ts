// @mmft/cuda-kernels: optional CUDA kernels for 4-bit (QLoRA) weights — blockwise dequantise, a
// fused 4-bit GEMV for decoding and a 4-bit GEMM for training shapes (src/cu/*.cu) — named after
// core's kernel table (MmftDequantize4bit, MmftMatMul4bit). Built with nvcc where it is installed
// (scripts/build-cuda.js); `loadCudaKernels()` says why not when there is no build, driver or GPU.
// The functions take host arrays (copy in, run, copy out); `benchmark` keeps its data on the device.
import * as fs from 'node:fs';
import * as path from 'node:path';
import { MmftError } from '@mmft/core';
import { Dequantize4bit, MatMul4bit } from '@mmft/core/kernels';
import { checkWeight4bit, rowsOfX, type Weight4bit } from './operands';

export { checkWeight4bit, rowsOfX, weight4bitOf, type Weight4bit } from './operands';
export { dequantize4bitReference, matmul4bitReference, gamma, weightAt } from './reference';

/** Device 0 as the CUDA runtime reports it. */
export interface CudaDeviceInfo {
  readonly name: string;
  readonly computeCapability: string;
  readonly smCount: number;
  readonly memoryBytes: number;
  readonly l2Bytes: number;
  readonly runtimeVersion: number;
  readonly driverVersion: number;
}

/** Timings of `benchmark` (bytes read + written per second, as CUDA's bandwidthTest counts a copy). */
export interface CudaBenchmark {
  readonly rows: number;
  readonly cols: number;
  readonly copyBytes: number;
  readonly copyGBs: number;
  readonly dequantizeGBs: number;
  readonly gemvGBs: number;
  readonly gemmGflops: number;
  readonly gemmF32Gflops: number;
  readonly copyMs: number;
  readonly dequantizeMs: number;
  readonly gemvMs: number;
  readonly gemmMs: number;
  readonly gemmF32Ms: number;
}

export interface CudaBenchmarkOptions {
  /** GEMV / dequantise weight (default: cols 16384, rows so that the data is ≥ 8× the L2 cache). */
  readonly rows?: number;
  readonly cols?: number;
  /** GEMM shape x [m, gemmCols]·Wᵀ, W [gemmRows, gemmCols] (default 2048, 4096, 4096). */
  readonly m?: number;
  readonly gemmRows?: number;
  readonly gemmCols?: number;
  readonly blockSize?: number;
  readonly iterations?: number;
}

export interface CudaKernels {
  readonly device: CudaDeviceInfo;
  /** The [rows, cols] weight as float32 (row-major). */
  MmftDequantize4bit(w: Weight4bit): Float32Array;
  /**
   * y = x·Wᵀ (transposeWeight: Linear's forward, x [..., cols] → [..., rows]) or x·W (its input
   * gradient, x [..., rows] → [..., cols]). One row of x with transposeWeight runs the GEMV kernel
   * unless `gemv: false`.
   */
  MmftMatMul4bit(x: Float32Array, w: Weight4bit, options: { readonly transposeWeight: boolean; readonly gemv?: boolean }): Float32Array;
  benchmark(options?: CudaBenchmarkOptions): CudaBenchmark;
}

export type CudaKernelsStatus = { readonly kernels: CudaKernels } | { readonly unavailable: string };

interface Addon {
  info(): Omit<CudaDeviceInfo, 'computeCapability'> & { deviceCount: number; major: number; minor: number; error: string | null };
  MmftDequantize4bit(packed: Uint8Array, absmax: Float32Array, code: Float32Array, n: number, blockSize: number): Float32Array;
  MmftMatMul4bit(
    packed: Uint8Array,
    absmax: Float32Array,
    code: Float32Array,
    x: Float32Array,
    m: number,
    rows: number,
    cols: number,
    blockSize: number,
    transposeWeight: boolean,
    allowGemv: boolean,
  ): Float32Array;
  benchmark(
    rows: number,
    cols: number,
    m: number,
    gemmRows: number,
    gemmCols: number,
    blockSize: number,
    iterations: number,
  ): CudaBenchmark;
}

/** The addon's kernel symbols: the names of core's kernel table (docs/conventions.md §19). */
export const CUDA_SYMBOLS = [Dequantize4bit, MatMul4bit] as const;

const BUILD_DIR = path.join(__dirname, '..', 'build', 'Release');
const REBUILD = 'build it with: pnpm --filter @mmft/cuda-kernels build:cuda (needs nvcc)';

function buildReason(): string {
  try {
    const status = JSON.parse(fs.readFileSync(path.join(BUILD_DIR, 'build-status.json'), 'utf8')) as { reason?: string };
    if (status.reason) return `not built: ${status.reason}`;
  } catch {
    // no status file: the build script never ran here
  }
  return `not built; ${REBUILD}`;
}

function wrap(addon: Addon, device: CudaDeviceInfo): CudaKernels {
  // A CUDA failure inside the addon throws a plain Error; it becomes an MmftError keeping it as cause.
  const run = <T>(name: string, body: () => T): T => {
    try {
      return body();
    } catch (error) {
      throw new MmftError('E_BACKEND', `${name} failed on ${device.name}: ${error instanceof Error ? error.message : String(error)}`, {
        cause: error,
      });
    }
  };
  return {
    device,
    MmftDequantize4bit: (w) => {
      checkWeight4bit(w, 'MmftDequantize4bit');
      return run(Dequantize4bit, () => addon[Dequantize4bit](w.packed, w.absmax, w.code, w.rows * w.cols, w.blockSize));
    },
    MmftMatMul4bit: (x, w, { transposeWeight, gemv = true }) => {
      checkWeight4bit(w, 'MmftMatMul4bit');
      const m = rowsOfX(x, w, transposeWeight, 'MmftMatMul4bit');
      return run(MatMul4bit, () => addon[MatMul4bit](w.packed, w.absmax, w.code, x, m, w.rows, w.cols, w.blockSize, transposeWeight, gemv));
    },
    benchmark: (o = {}) =>
      run('benchmark', () =>
        addon.benchmark(o.rows ?? 0, o.cols ?? 0, o.m ?? 0, o.gemmRows ?? 0, o.gemmCols ?? 0, o.blockSize ?? 64, o.iterations ?? 20),
      ),
  };
}

let cached: CudaKernelsStatus | undefined;

/**
 * The CUDA kernels, or why they cannot run here (disabled, not built, no driver, no device).
 *
 * @example
 * const status = loadCudaKernels();
 * if ('kernels' in status) y = status.kernels.MmftMatMul4bit(x, weight, { transposeWeight: true });
 * else console.log(`CUDA kernels unavailable: ${status.unavailable}`);
 */
export function loadCudaKernels(): CudaKernelsStatus {
  if (process.env.MMFT_CUDA === '0') return { unavailable: 'disabled by MMFT_CUDA=0' };
  if (cached) return cached;
  const file = path.join(BUILD_DIR, 'mmft_cuda.node');
  if (!fs.existsSync(file)) return (cached = { unavailable: buildReason() });
  let addon: Addon;
  try {
    addon = require(file) as Addon;
  } catch (error) {
    const message = (error instanceof Error ? error.message : String(error)).split('\n')[0];
    return (cached = { unavailable: `the addon does not load (${message}); re${REBUILD.slice(1)}` });
  }
  const missing = [...CUDA_SYMBOLS, 'info', 'benchmark'].filter((name) => typeof addon[name as keyof Addon] !== 'function');
  if (missing.length > 0)
    return (cached = { unavailable: `the built addon lacks ${missing.join(', ')} (built from older sources); re${REBUILD.slice(1)}` });
  const info = addon.info();
  if (info.error !== null) {
    // The static CUDA runtime reports a missing libcuda as an old driver (driver version 0).
    const why = info.driverVersion === 0 ? 'no CUDA driver (libcuda) on this machine' : info.error;
    return (cached = { unavailable: `no CUDA device: ${why} (CUDA runtime ${info.runtimeVersion}, driver ${info.driverVersion})` });
  }
  const device: CudaDeviceInfo = {
    name: info.name,
    computeCapability: `${info.major}.${info.minor}`,
    smCount: info.smCount,
    memoryBytes: info.memoryBytes,
    l2Bytes: info.l2Bytes,
    runtimeVersion: info.runtimeVersion,
    driverVersion: info.driverVersion,
  };
  return (cached = { kernels: wrap(addon, device) });
}
