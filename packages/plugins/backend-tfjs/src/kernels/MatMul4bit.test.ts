// The MmftMatMul4bit and MmftDequantize4bit kernels (frozen weights held in 4 bits, bitsandbytes'
// blockwise layout) against a float64 reference that decodes every code by the rule written out
// here: element 2j in a byte's high nibble, W[i] = code[nibble]·absmax[i / blockSize] rounded to
// float32. Forward both ways, the registered input gradient (dy·W or dy·Wᵀ without W), odd sizes,
// the kernels launched, leaks. On wasm the kernel runs on the native addon only.
import { beforeAll, describe, expect, test } from '@jest/globals';
import * as tf from '@tensorflow/tfjs-core';
import '@tensorflow/tfjs-backend-wasm';
import { nativeKernelsStatus } from '@mmft/native-kernels';
import { dequantize4bitOps, Linear, registerGradients } from '@mmft/core/nn';
import { absmaxFloat32, dequantize4bit, quantize4bit, type QuantType4 } from '@mmft/core/quant';
import { Dequantize4bit, MatMul4bit, type MatMul4bitAttrs } from '@mmft/core/kernels';
import { expectClose, kernelsOf, on, type Backend } from './fused/test_utils';

beforeAll(() => {
  require('@tensorflow/tfjs-backend-cpu');
  registerGradients();
});

// bitsandbytes' NF4 table (get_4bit_type("nf4"), bitsandbytes/functional.py).
const NF4 = [
  -1.0, -0.6961928009986877, -0.5250730514526367, -0.39491748809814453, -0.28444138169288635, -0.18477343022823334, -0.09105003625154495,
  0.0, 0.07958029955625534, 0.16093020141124725, 0.24611230194568634, 0.33791524171829224, 0.44070982933044434, 0.5626170039176941,
  0.7229568362236023, 1.0,
];

interface Weight {
  bytes: Uint8Array;
  absmax: Float32Array;
  rows: number;
  cols: number;
  blockSize: number;
}

function weight(rows: number, cols: number, blockSize: number, seed: number): Weight {
  const size = rows * cols;
  const bytes = Uint8Array.from({ length: Math.ceil(size / 2) }, (_, i) => (Math.imul(i + seed, 2654435761) >>> 11) & 0xff);
  const absmax = Float32Array.from({ length: Math.ceil(size / blockSize) }, (_, b) => 0.25 + ((b * 7 + seed) % 11) / 8);
  return { bytes, absmax, rows, cols, blockSize };
}

/** W as float64 [rows][cols], decoded by the rule above. */
function decoded(w: Weight): number[][] {
  return Array.from({ length: w.rows }, (_, r) =>
    Array.from({ length: w.cols }, (_, c) => {
      const i = r * w.cols + c;
      const byte = w.bytes[Math.floor(i / 2)]!;
      const nibble = i % 2 === 0 ? Math.floor(byte / 16) : byte % 16;
      return Math.fround(Math.fround(NF4[nibble]!) * w.absmax[Math.floor(i / w.blockSize)]!);
    }),
  );
}

/** The kernel's three weight inputs: the bytes zero-padded to whole int32 words. */
function inputs(w: Weight) {
  const words = new Int32Array(Math.ceil(w.bytes.length / 4));
  new Uint8Array(words.buffer).set(w.bytes);
  return { packed: tf.tensor1d(words, 'int32'), absmax: tf.tensor1d(w.absmax), code: tf.tensor1d(NF4) };
}

/** x [m, k] · W (or Wᵀ) in float64. */
function reference(x: Float32Array, m: number, W: number[][], transposeWeight: boolean): number[] {
  const [rows, cols] = [W.length, W[0]?.length ?? 0];
  const [k, n] = transposeWeight ? [cols, rows] : [rows, cols];
  const y: number[] = [];
  for (let i = 0; i < m; i++)
    for (let j = 0; j < n; j++) {
      let s = 0;
      for (let p = 0; p < k; p++) s += x[i * k + p]! * (transposeWeight ? W[j]![p]! : W[p]![j]!);
      y.push(s);
    }
  return y;
}

const xValues = (size: number, seed: number) => Float32Array.from({ length: size }, (_, i) => Math.sin((i + seed) * 0.37) * 0.8);
const backends: Backend[] = ['cpu', ...(nativeKernelsStatus().available ? (['wasm'] as Backend[]) : [])];

describe.each(backends)('MmftMatMul4bit on %s', (backend) => {
  test.each([
    [1, 1, 1, 64, true],
    [3, 13, 37, 32, true],
    [3, 13, 37, 32, false],
    [4, 70, 301, 64, true],
    [2, 301, 70, 128, false],
    [5, 9, 7, 4096, true],
  ] as Array<[number, number, number, number, boolean]>)(
    'm %i, W [%i, %i] in blocks of %i, transposed %s: forward and input gradient equal the float64 reference',
    async (m, rows, cols, blockSize, transposeWeight) => {
      await on(backend, true, () => undefined);
      const w = weight(rows, cols, blockSize, rows + cols);
      const W = decoded(w);
      const [k, n] = transposeWeight ? [cols, rows] : [rows, cols];
      const attrs: MatMul4bitAttrs = { rows, cols, blockSize, transposeWeight };
      const xs = xValues(m * k, 1);
      const dys = xValues(m * n, 5);
      const out = tf.tidy(() => {
        const q = inputs(w);
        const x = tf.tensor2d(xs, [m, k]);
        const dy = tf.tensor2d(dys, [m, n]);
        const f = (xx: tf.Tensor) => tf.engine().runKernel(MatMul4bit, { x: xx, ...q }, attrs as unknown as tf.NamedAttrMap) as tf.Tensor;
        const dx = tf.grad((xx: tf.Tensor) => tf.sum(tf.mul(f(xx), dy)))(x);
        return { y: f(x).dataSync().slice(), dx: dx.dataSync().slice() };
      });
      expectClose(out.y, reference(xs, m, W, transposeWeight), 1e-5);
      // dx = dy·W for x·Wᵀ, dy·Wᵀ for x·W: the reference with the transpose flipped.
      expectClose(out.dx, reference(dys, m, W, !transposeWeight), 1e-5);
    },
  );

  test('a rank-3 x; the kernel runs forward and backward without BatchMatMul or leaks', async () => {
    await on(backend, true, () => undefined);
    const w = weight(13, 37, 64, 2);
    const q = inputs(w);
    const attrs = { rows: 13, cols: 37, blockSize: 64, transposeWeight: true } as unknown as tf.NamedAttrMap;
    const x = tf.tensor3d(xValues(2 * 5 * 37, 3), [2, 5, 37]);
    const run = () =>
      tf.tidy(() => tf.grad((xx: tf.Tensor) => tf.sum(tf.engine().runKernel(MatMul4bit, { x: xx, ...q }, attrs) as tf.Tensor))(x));
    tf.dispose(run());
    const before = tf.memory().numTensors;
    const kernels = await kernelsOf(() => {
      tf.dispose(run());
      return [];
    });
    expect(tf.memory().numTensors).toBe(before);
    expect(kernels.filter((k) => k === MatMul4bit).length).toBe(2); // forward and input gradient
    expect(kernels).not.toContain('BatchMatMul');
    const y = tf.engine().runKernel(MatMul4bit, { x, ...q }, attrs) as tf.Tensor;
    expect(y.shape).toEqual([2, 5, 13]);
    expectClose(y.dataSync(), reference(x.dataSync() as Float32Array, 10, decoded(w), true), 1e-5);
    tf.dispose([y, x, q.packed, q.absmax, q.code]);
  });

  test('a bad packed weight is refused naming the kernel and the shapes', async () => {
    await on(backend, true, () => undefined);
    const q = inputs(weight(3, 4, 4, 1));
    const x = tf.zeros([1, 4]);
    expect(() => tf.engine().runKernel(MatMul4bit, { x, ...q }, { rows: 5, cols: 4, blockSize: 4, transposeWeight: true })).toThrow(
      /MmftMatMul4bit \(mmft fused kernel\) needs an int32 packed weight holding 5×4 4-bit codes/,
    );
    tf.dispose([x, q.packed, q.absmax, q.code]);
  });
});

// A 4-bit Linear (core's storeWeight4bit) with the kernel installed against core's composite of
// tfjs ops (fused: false), which packages/core/src/nn/quant4.test.ts checks bit for bit against
// dequantize4bit: forward and input gradient, odd sizes, double quantisation, FP4.
describe.each(backends)('a 4-bit Linear on %s: the kernel equals the composite', (backend) => {
  test.each([
    [37, 13, 'nf4', 32, true, true],
    [64, 33, 'fp4', 64, false, false],
    [301, 70, 'nf4', 64, true, true],
  ] as Array<[number, number, QuantType4, number, boolean, boolean]>)(
    'in %i out %i %s blocks of %i (double quant %s, bias %s)',
    async (inF, outF, quantType, blockSize, doubleQuant, bias) => {
      const fc = await on(backend, false, () => {
        const layer = new Linear(inF, outF, { bias, seed: 3 });
        layer.weight.trainable = false;
        const w = Float32Array.from({ length: inF * outF }, (_, i) => Math.sin(i * 0.61) * (1 + (i % 9)) * 0.1);
        layer.storeWeight4bit(quantize4bit(w, quantType, { blockSize, doubleQuant, shape: [outF, inF] }));
        return layer;
      });
      const run = () =>
        tf.tidy(() => {
          const x = tf.tensor3d(xValues(2 * 5 * inF, 4), [2, 5, inF]);
          const dy = tf.tensor3d(xValues(2 * 5 * outF, 9), [2, 5, outF]);
          const dx = tf.grad((xx: tf.Tensor) => tf.sum(tf.mul(fc.forward(xx), dy)))(x);
          return { y: Array.from(fc.forward(x).dataSync()), dx: Array.from(dx.dataSync()) };
        });
      const composite = await on(backend, false, run);
      const fused = await on(backend, true, run);
      expectClose(fused.y, composite.y, 1e-5);
      expectClose(fused.dx, composite.dx, 1e-5);
      const kernels = await on(backend, true, () => kernelsOf(() => run().y));
      expect(kernels.filter((k) => k === MatMul4bit).length).toBe(3); // two forwards, one input gradient
      expect(kernels).not.toContain('BatchMatMul');
      fc.dispose();
    },
  );
});

// wasm's FloorDiv divides int32 in float32: the composite must still decode every word exactly.
test.each(['cpu', 'wasm'] as Backend[])('the composite decodes bit for bit on %s', async (backend) => {
  await on(backend, false, () => undefined);
  const w = Float32Array.from({ length: 45 * 31 }, (_, i) => Math.cos(i * 1.37) * (1 + (i % 13)));
  const q = quantize4bit(w, 'nf4', { blockSize: 64, doubleQuant: true, shape: [45, 31] });
  const words = new Int32Array(Math.ceil(q.packed.length / 4));
  new Uint8Array(words.buffer).set(q.packed);
  expect(words.some((v) => v < -(2 ** 24))).toBe(true);
  const out = tf.tidy(() =>
    dequantize4bitOps(tf.tensor1d(words, 'int32'), tf.tensor1d(absmaxFloat32(q)), tf.tensor1d(q.code), 45, 31, 64).dataSync(),
  );
  expect(Array.from(out)).toEqual(Array.from(dequantize4bit(q)));
});

test('MmftDequantize4bit on cpu decodes every element by the rule', async () => {
  await on('cpu', true, () => undefined);
  const w = weight(7, 9, 32, 4); // 63 codes: the last byte's low nibble is padding
  const q = inputs(w);
  const out = tf.engine().runKernel(Dequantize4bit, q, { rows: 7, cols: 9, blockSize: 32 }) as tf.Tensor;
  expect(out.shape).toEqual([7, 9]);
  expect(Array.from(out.dataSync())).toEqual(decoded(w).flat());
  tf.dispose([out, q.packed, q.absmax, q.code]);
});

test('on wasm MmftMatMul4bit is installed exactly when the addon is', async () => {
  await on('wasm', true, () => undefined);
  expect(tf.getKernel(MatMul4bit, 'wasm') !== undefined).toBe(nativeKernelsStatus().available);
});
