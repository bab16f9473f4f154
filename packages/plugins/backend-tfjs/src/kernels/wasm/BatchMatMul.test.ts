// The wasm BatchMatMul override against the cpu backend and the stock wasm kernel: every
// transpose combination, batch 1 and > 1, broadcast batches, gradients, and no leaks — on both of
// its paths, XNNPACK rewrites and the native GEMM (the latter only where the addon is built).
import { beforeAll, describe, expect, test } from '@jest/globals';
import * as tf from '@tensorflow/tfjs-core';
import { getKernel } from '@tensorflow/tfjs-core';
import { resetBackendSelection, selectBackend } from '../../select';
import { tfjsBackendConfigSchema } from '../../config';
import { installKernelOverrides, removeKernelOverrides } from '../install';
import { MIN_MACS_PER_SLICE_FOR_LOOP } from './BatchMatMul';
import { nativeKernelsStatus } from '@mmft/native-kernels';

/** Deterministic values in [-1, 1) (an LCG), so failures reproduce. */
function values(size: number, seed: number): Float32Array {
  const out = new Float32Array(size);
  let state = seed >>> 0;
  for (let i = 0; i < size; i++) {
    state = (Math.imul(state, 1664525) + 1013904223) >>> 0;
    out[i] = state / 2 ** 31 - 1;
  }
  return out;
}

type Path = 'xnnpack' | 'native';
type Mode = 'cpu' | 'stock' | Path;
async function onBackend<T>(mode: Mode, run: () => T): Promise<T> {
  await tf.setBackend(mode === 'cpu' ? 'cpu' : 'wasm');
  if (mode === 'cpu' || mode === 'stock') removeKernelOverrides();
  else installKernelOverrides('wasm', { native: mode === 'native' });
  return run();
}

const native = nativeKernelsStatus();
if (!native.available) console.warn(`native GEMM path not tested: ${native.reason}`);
const PATHS: Path[] = native.available ? ['xnnpack', 'native'] : ['xnnpack'];

/** max |x - ref| relative to max |ref|: elementwise relative error is meaningless near zero. */
function relativeError(x: Float32Array, ref: Float32Array): number {
  expect(x.length).toBe(ref.length);
  let diff = 0;
  let scale = 0;
  for (let i = 0; i < ref.length; i++) {
    diff = Math.max(diff, Math.abs((x[i] as number) - (ref[i] as number)));
    scale = Math.max(scale, Math.abs(ref[i] as number));
  }
  return diff / scale;
}

// [a shape, b shape] as multiplied (before transposition); M=33, K=17, N=29 unless large.
const SHAPES: Array<[string, number[], number[]]> = [
  ['2d', [33, 17], [17, 29]],
  ['batch 1', [1, 33, 17], [1, 17, 29]],
  ['batch 3', [3, 33, 17], [3, 17, 29]],
  ['broadcast b (rank 2)', [3, 33, 17], [17, 29]],
  ['broadcast b (batch 1)', [2, 3, 33, 17], [1, 17, 29]],
  ['broadcast a', [33, 17], [3, 17, 29]],
  ['rank 4', [2, 3, 33, 17], [2, 3, 17, 29]],
  ['rank 4 against rank 3, same batch', [1, 3, 33, 17], [3, 17, 29]],
  ['per-slice path', [3, 64, 72], [3, 72, 64]],
  ['per-slice path, broadcast a', [1, 64, 72], [3, 72, 64]],
  // Large enough for the native GEMM to split the work over threads; edge tiles everywhere.
  ['attention shape, threaded', [8, 65, 32], [8, 32, 65]],
  ['2d, threaded', [130, 70], [70, 90]],
  ['shared weight, threaded', [4, 65, 128], [128, 96]],
];
const swapInner = (shape: number[]): number[] => [
  ...shape.slice(0, -2),
  shape[shape.length - 1] as number,
  shape[shape.length - 2] as number,
];

beforeAll(async () => {
  resetBackendSelection();
  await selectBackend(tfjsBackendConfigSchema.parse({ prefer: ['wasm'] }));
  require('@tensorflow/tfjs-backend-cpu'); // the reference backend
});

describe.each(PATHS)('wasm BatchMatMul override, %s path', (path) => {
  test('the per-slice cases are large enough to take the per-slice path', () => {
    expect(64 * 72 * 64).toBeGreaterThanOrEqual(MIN_MACS_PER_SLICE_FOR_LOOP);
  });

  describe.each(SHAPES)('%s', (_label, aShape, bShape) => {
    test.each([
      [false, false],
      [true, false],
      [false, true],
      [true, true],
    ])('transposeA=%s transposeB=%s matches cpu and the stock kernel', async (transposeA, transposeB) => {
      const aStored = transposeA ? swapInner(aShape) : aShape;
      const bStored = transposeB ? swapInner(bShape) : bShape;
      const aValues = values(tf.util.sizeFromShape(aStored), 1);
      const bValues = values(tf.util.sizeFromShape(bStored), 2);
      const product = () =>
        tf.tidy(() => {
          const out = tf.matMul(tf.tensor(aValues, aStored), tf.tensor(bValues, bStored), transposeA, transposeB);
          return { shape: out.shape, data: out.dataSync() as Float32Array };
        });
      const cpu = await onBackend('cpu', product);
      const stock = await onBackend('stock', product);
      const override = await onBackend(path, product);
      expect(override.shape).toEqual(cpu.shape);
      expect(override.shape).toEqual(stock.shape);
      expect(relativeError(override.data, cpu.data)).toBeLessThan(1e-5);
      expect(relativeError(override.data, stock.data)).toBeLessThan(1e-5);
    });
  });

  test.each([
    [false, false],
    [false, true],
    [true, false],
    [true, true],
  ])('gradients through tf.matMul(transposeA=%s, transposeB=%s) match cpu', async (transposeA, transposeB) => {
    // tfjs's gradient itself calls matMul with the other transpose combinations.
    const aStored = transposeA ? [2, 24, 40] : [2, 40, 24];
    const bStored = transposeB ? [2, 48, 24] : [2, 24, 48];
    const dy = values(2 * 40 * 48, 3);
    const grads = () =>
      tf.tidy(() => {
        const f = (a: tf.Tensor, b: tf.Tensor) => tf.matMul(a, b, transposeA, transposeB);
        const [ga, gb] = tf.grads(f)(
          [tf.tensor(values(2 * 40 * 24, 4), aStored), tf.tensor(values(2 * 48 * 24, 5), bStored)],
          tf.tensor(dy, [2, 40, 48]),
        );
        expect(ga!.shape).toEqual(aStored);
        expect(gb!.shape).toEqual(bStored);
        return [ga!.dataSync() as Float32Array, gb!.dataSync() as Float32Array];
      });
    const [cpuA, cpuB] = await onBackend('cpu', grads);
    const [wasmA, wasmB] = await onBackend(path, grads);
    expect(relativeError(wasmA!, cpuA!)).toBeLessThan(1e-5);
    expect(relativeError(wasmB!, cpuB!)).toBeLessThan(1e-5);
  });

  test('no tensors or wasm buffers leak, on any path', async () => {
    await onBackend(path, () => undefined);
    const backend = tf.backend() as unknown as { numDataIds(): number };
    const cases = SHAPES.flatMap(
      ([, a, b]) =>
        [
          [a, b, false, false],
          [swapInner(a), b, true, false],
          [a, swapInner(b), false, true],
        ] as const,
    );
    const inputs = cases.map(([a, b, tA, tB]) => [tf.ones(a), tf.ones(b), tA, tB] as const);
    const tensors = tf.memory().numTensors;
    const buffers = backend.numDataIds();
    for (const [a, b, tA, tB] of inputs) tf.matMul(a, b, tA, tB).dispose();
    expect(tf.memory().numTensors).toBe(tensors);
    expect(backend.numDataIds()).toBe(buffers);
    for (const [a, b] of inputs) tf.dispose([a, b]);
  });

  test('errors come from the stock kernel unchanged', async () => {
    await onBackend(path, () => undefined);
    expect(() => tf.matMul(tf.ones([2, 3]), tf.ones([4, 5]), true, false)).toThrow(/inner shapes \(2\) and \(4\)/);
    expect(() => tf.matMul(tf.ones([2, 3, 4]), tf.ones([3, 4, 5]))).toThrow(/could not be broadcast/);
  });

  test('install is idempotent and remove restores the stock kernel', () => {
    removeKernelOverrides();
    const stock = getKernel('BatchMatMul', 'wasm');
    const options = { native: path === 'native', fused: false };
    // The native Add needs the addon, so only the native path has it.
    const expected = ['BatchMatMul', 'Sum', 'Identity', 'Cast', 'GatherV2', 'UnsortedSegmentSum', ...(path === 'native' ? ['Add'] : [])];
    expect(installKernelOverrides('wasm', options)).toEqual(expected);
    const override = getKernel('BatchMatMul', 'wasm');
    expect(override.kernelFunc).not.toBe(stock.kernelFunc);
    expect(override.setupFunc).toBe(stock.setupFunc);
    expect(installKernelOverrides('wasm', options)).toEqual(expected);
    expect(getKernel('BatchMatMul', 'wasm')).toBe(override);
    if (native.available) {
      // Switching paths replaces the override instead of wrapping it.
      installKernelOverrides('wasm', { native: !options.native });
      expect(getKernel('BatchMatMul', 'wasm')).not.toBe(override);
    }
    expect(installKernelOverrides('cpu', { fused: false })).toEqual([]);
    removeKernelOverrides();
    expect(getKernel('BatchMatMul', 'wasm')).toBe(stock);
  });
});
