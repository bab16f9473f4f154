// The kernel row on tiny shapes: the operands are laid out as core's Linear lays out a 4-bit weight
// (bytes checked by hand), the 4-bit product it times agrees with float32 on the dequantised weight in
// both directions, FLOPs and GFLOP/s follow from the shape and the timings, and the helpers compute
// what they say. No speed is asserted (docs/benchmarks.md: tests check the benchmark, not the machine).
import * as tf from '@tensorflow/tfjs-core';
import { beforeAll, describe, expect, test } from '@jest/globals';
import type { PluginRegistry } from '@mmft/core';
import { NF4_CODE, quantize4bit } from '@mmft/core/quant';
import { benchConfigSchema } from '../suite/bench-config';
import type { Experiment } from '../suite/experiment';
import { benchRegistry } from '../suite/registry';
import { kernelOperands, relativeError, repeatsFor, runKernel, weightValues } from './run-kernel';

let registry: PluginRegistry;
beforeAll(async () => {
  registry = await benchRegistry();
});

function experiment(matmul4bit: Record<string, unknown>): Experiment {
  const value = { backend: { type: 'tfjs', prefer: ['wasm', 'cpu'] } };
  return {
    name: 'tiny-kernel',
    file: 'tiny-kernel.yaml',
    bench: benchConfigSchema.parse({ kind: 'kernel', suites: ['full'], title: 'tiny', warmup_steps: 1, timed_steps: 2, matmul4bit }),
    recipe: { file: 'tiny-kernel.yaml', baseDir: '.', value, origins: new Map(), selections: [] },
  };
}

describe('kernel rows', () => {
  test.each([true, false])(
    'x·Wᵀ (%s) or x·W: the 4-bit product equals float32 on the dequantised weight; FLOPs and GFLOP/s from the shape',
    async (transpose) => {
      // 5 × 70 = 350 weights: five full blocks of 64 and a short one; k = 70 is not a multiple of 64.
      const shape = { m: 3, n: 5, k: 70, transpose_weight: transpose };
      const result = await runKernel(experiment(shape), registry);
      const k = result.kernel!;
      expect([k.m, k.n, k.k, k.transposeWeight, k.quantType, k.blockSize, k.doubleQuant]).toEqual([3, 5, 70, transpose, 'nf4', 64, true]);
      expect(k.relativeError).toBeLessThan(1e-5);
      expect(result.flops).toBe(2 * 3 * 5 * 70);
      expect(result.unit).toBe('GFLOP/s');
      expect(result.throughput).toBe(k.gflops4bit);
      expect(k.gflops4bit).toBeCloseTo(2100 / result.timing.medianMs / 1e6, 12);
      expect(k.gflopsF32).toBeCloseTo(2100 / k.timingF32.medianMs / 1e6, 12);
      expect([result.timing.samples, k.timingF32.samples]).toEqual([2, 2]);
    },
  );

  test('helpers: repeats per sample, relative error, deterministic weights with outliers', () => {
    expect([repeatsFor(30), repeatsFor(0.5), repeatsFor(0)]).toEqual([1, 50, 1000]);
    expect(relativeError(Float32Array.from([1, 2]), Float32Array.from([1, 4]))).toBe(0.5);
    const w = weightValues(2000, 1);
    expect(Array.from(w)).toEqual(Array.from(weightValues(2000, 1)));
    expect(Math.abs(w[997]!)).toBeGreaterThan(0);
    expect(Math.max(...w.map(Math.abs))).toBeLessThanOrEqual(0.02 * 1.75 * 8);
  });
  // After runKernel has selected the engine.
  test('operands as Linear.storeWeight4bit lays them out: [1, −1, 0] → bytes F0 77 (the odd element padded with the code of 0.0), one word', () => {
    const q = quantize4bit(Float32Array.from([1, -1, 0]), 'nf4', { blockSize: 64 });
    const { packed, absmax, code } = kernelOperands(q);
    expect([packed.dtype, Array.from(packed.dataSync())]).toEqual(['int32', [0x77f0]]);
    expect(Array.from(absmax.dataSync())).toEqual([1]);
    expect(Array.from(code.dataSync())).toEqual(Array.from(NF4_CODE));
    tf.dispose([packed, absmax, code]);
  });
});
