// A `kind: kernel` experiment: the fused 4-bit product (MmftMatMul4bit, core's kernel table) against
// the float32 GEMM at the same shape, on the recipe's engine — on wasm with the native addon that is
// packages/native-kernels/src/cc/matmul4bit.cc against the native GEMM tf.matMul runs (the
// BatchMatMul override), as src/child/gemm.ts measures the ceiling. The weight is quantised as a
// QLoRA base is (core's quantize4bit, bitsandbytes' blockwise format) and handed to the kernel as
// core's Linear.storeWeight4bit hands it (int32 words of the packed bytes, de-nested absmax, code).
// Effective GFLOP/s = 2·m·n·k ÷ the median time of one call, the output read back, as gemm.ts.
import * as tf from '@tensorflow/tfjs-core';
import { MmftError, type ProviderResolver } from '@mmft/core';
import { isRegistered, MatMul4bit, runFused } from '@mmft/core/kernels';
import { absmaxFloat32, dequantize4bit, quantize4bit, type Quantized4bit } from '@mmft/core/quant';
import { nativeKernelsStatus } from '@mmft/backend-tfjs';
import type { Matmul4bitShape } from '../suite/bench-config';
import type { Experiment } from '../suite/experiment';
import type { KernelComparison, SideResult, Timing } from '../suite/result';
import { summarize } from '../suite/stats';
import { selectEngine } from './build-run';

/** Each timed sample repeats the call until it has run this long, so m = 1 products are not timer noise. */
const SAMPLE_MS = 25;

/** Weight-like values: a fixed sum of sines, scaled as a Linear's initialisation (≈ 0.02), outliers included. */
export function weightValues(size: number, seed: number): Float32Array {
  const out = new Float32Array(size);
  for (let i = 0; i < size; i++) {
    const a = Math.sin(0.7071 * i + seed) + 0.5 * Math.sin(0.0137 * i * (seed + 1)) + 0.25 * Math.sin(1.618 * i);
    out[i] = 0.02 * a * (i % 997 === 0 ? 8 : 1);
  }
  return out;
}

/** The kernel's operands for `q`, as Linear.storeWeight4bit lays them out. */
export function kernelOperands(q: Quantized4bit): { packed: tf.Tensor; absmax: tf.Tensor; code: tf.Tensor } {
  const bytes = Math.ceil(q.length / 2);
  const words = new Int32Array(Math.ceil(bytes / 4));
  new Uint8Array(words.buffer).set(q.packed.subarray(0, bytes));
  const blocks = Math.ceil(q.length / q.blockSize);
  return {
    packed: tf.tensor1d(words, 'int32'),
    absmax: tf.tensor1d(absmaxFloat32(q).subarray(0, blocks), 'float32'),
    code: tf.tensor1d(q.code, 'float32'),
  };
}

/** Largest |a − b| ÷ largest |b|. */
export function relativeError(a: Float32Array, b: Float32Array): number {
  let [diff, scale] = [0, 0];
  for (let i = 0; i < b.length; i++) {
    diff = Math.max(diff, Math.abs(a[i]! - b[i]!));
    scale = Math.max(scale, Math.abs(b[i]!));
  }
  return scale > 0 ? diff / scale : diff;
}

/** Calls per timed sample so one sample lasts about SAMPLE_MS. */
export const repeatsFor = (msPerCall: number): number => Math.max(1, Math.min(1000, Math.ceil(SAMPLE_MS / Math.max(msPerCall, 1e-3))));

/**
 * Time the 4-bit product and the float32 GEMM of `shape`: alternating samples (drift on a shared
 * machine favours neither), each the mean of a few back-to-back calls.
 */
function timeBoth(run4: () => void, runF32: () => void, warmup: number, timed: number): { t4: Timing; tF32: Timing } {
  const once = (run: () => void) => {
    const start = performance.now();
    run();
    return performance.now() - start;
  };
  let [ms4, msF32] = [0, 0];
  for (let i = 0; i < Math.max(1, warmup); i++) [ms4, msF32] = [once(run4), once(runF32)];
  const [r4, rF32] = [repeatsFor(ms4), repeatsFor(msF32)];
  const sample = (run: () => void, repeats: number) => {
    const start = performance.now();
    for (let i = 0; i < repeats; i++) run();
    return (performance.now() - start) / repeats;
  };
  const [s4, sF32]: number[][] = [[], []];
  for (let i = 0; i < timed; i++) {
    s4.push(sample(run4, r4));
    sF32.push(sample(runF32, rF32));
  }
  return { t4: summarize(s4), tF32: summarize(sF32) };
}

/**
 * Measure one kernel experiment.
 *
 * @example
 * const result = await runKernel(experiment, registry); // result.kernel.gflops4bit / result.kernel.gflopsF32
 */
export async function runKernel(experiment: Experiment, resolver: ProviderResolver): Promise<SideResult> {
  const shape = experiment.bench.matmul4bit as Matmul4bitShape;
  const { m, n, k } = shape;
  const transposeWeight = shape.transpose_weight;
  const backend = await selectEngine(experiment, resolver);
  if (!isRegistered(MatMul4bit)) {
    throw new MmftError('E_UNSUPPORTED', `${experiment.file}: ${MatMul4bit} is not registered on the ${backend.name} engine`, {
      hint: 'the wasm engine installs it with the native kernels built (pnpm --filter @mmft/native-kernels build); the cpu engine has a JS kernel',
    });
  }
  // W [rows, cols] as stored: [n, k] for x·Wᵀ, [k, n] for x·W.
  const [rows, cols] = transposeWeight ? [n, k] : [k, n];
  const values = weightValues(rows * cols, 1);
  const q = quantize4bit(values, shape.quant_type, { blockSize: shape.block_size, doubleQuant: shape.double_quant, shape: [rows, cols] });
  const operands = kernelOperands(q);
  const weight = tf.tensor2d(values, [rows, cols]);
  const x = tf.tensor2d(
    weightValues(m * k, 2).map((v) => 50 * v),
    [m, k],
  );
  const attrs = { rows, cols, blockSize: q.blockSize, transposeWeight };
  const product4 = () => runFused(MatMul4bit, { x, ...operands }, attrs)!;
  const productF32 = () => tf.matMul(x, weight, false, transposeWeight);
  const readBack = (product: () => tf.Tensor) => () => {
    const y = product();
    y.dataSync();
    y.dispose();
  };
  // The product itself is checked once against float32 on the dequantised weight.
  const dequantised = tf.tensor2d(dequantize4bit(q), [rows, cols]);
  const [y4, yRef] = [product4(), tf.matMul(x, dequantised, false, transposeWeight)];
  const error = relativeError(y4.dataSync() as Float32Array, yRef.dataSync() as Float32Array);
  tf.dispose([y4, yRef, dequantised]);
  const { t4, tF32 } = timeBoth(readBack(product4), readBack(productF32), experiment.bench.warmup_steps, experiment.bench.timed_steps);
  tf.dispose([x, weight, operands.packed, operands.absmax, operands.code]);
  const flops = 2 * m * n * k;
  const caps = backend.capabilities;
  const native = nativeKernelsStatus();
  const onNative = caps.engine === 'wasm' && native.available;
  const how = onNative
    ? `tfjs wasm: ${MatMul4bit} and tf.matMul on the native addon (${native.kernels.isa}, threads ${native.kernels.threads})`
    : `tfjs ${caps.engine}: ${MatMul4bit} and tf.matMul on the engine's kernels (threads ${caps.threads})`;
  const kernel: KernelComparison = {
    m,
    n,
    k,
    transposeWeight,
    quantType: q.quantType,
    blockSize: q.blockSize,
    doubleQuant: q.nested !== undefined,
    gflops4bit: flops / t4.medianMs / 1e6,
    gflopsF32: flops / tF32.medianMs / 1e6,
    timingF32: tF32,
    relativeError: error,
    how,
  };
  return {
    side: 'mmft',
    throughput: kernel.gflops4bit,
    unit: 'GFLOP/s',
    timing: t4,
    peakRssBytes: process.resourceUsage().maxRSS * 1024,
    engine: {
      name: backend.name,
      engine: caps.engine,
      threads: caps.threads,
      kernelOverrides: caps.kernelOverrides,
      tfjs: tf.version_core,
    },
    flops,
    kernel,
  };
}
