// MmftMatMulPacked16 (a product with a weight held as bf16 or fp16 patterns) against a float64
// reference that decodes the patterns by the IEEE formulas written out here: both directions of
// the weight, odd sizes (an empty last half), column blocks over several threads, fp16 subnormals,
// k = 0, and bounds checks. Skipped, with the reason printed, when the addon is not built.
import { describe, expect, test } from '@jest/globals';
import { nativeKernelsStatus } from './index';
import { expectNothingPast, values } from './heap.test-helper';

const status = nativeKernelsStatus();
if (!status.available) console.warn(`native kernels not tested: ${status.reason}`);
const maybe = status.available ? describe : describe.skip;

/** The value of a 16-bit pattern: bf16 is a float32's top half; fp16 is (−1)^s·2^(e−15)·1.m, or 2⁻¹⁴·0.m. */
function decode(h: number, format: 'bf16' | 'fp16'): number {
  if (format === 'bf16') return new Float32Array(Uint32Array.of(h << 16).buffer)[0]!;
  const sign = h & 0x8000 ? -1 : 1;
  const e = (h >> 10) & 0x1f;
  const m = h & 0x3ff;
  return e === 0 ? sign * m * 2 ** -24 : sign * (1 + m / 1024) * 2 ** (e - 15);
}

/** `size` finite patterns: bf16 from values in [−1, 1), fp16 from every exponent but inf/NaN's (subnormals included). */
function patterns(size: number, seed: number, format: 'bf16' | 'fp16'): Uint16Array {
  const v = values(size, seed);
  const out = new Uint16Array(size);
  for (let i = 0; i < size; i++) {
    const bits = new Uint32Array(Float32Array.of(v[i]!).buffer)[0]!;
    out[i] = format === 'bf16' ? bits >>> 16 : ((bits >>> 13) % 0x7c00) | (v[i]! < 0 ? 0x8000 : 0);
  }
  return out;
}

maybe('native MmftMatMulPacked16', () => {
  const kernels = status.available ? status.kernels : undefined!;
  const cases: Array<[number, number, number, 'bf16' | 'fp16', boolean]> = [
    [1, 1, 1, 'bf16', true],
    [3, 13, 37, 'bf16', true],
    [3, 13, 37, 'fp16', false],
    [5, 70, 300, 'fp16', true],
    [5, 300, 70, 'bf16', false],
    [40, 600, 33, 'bf16', false],
    [130, 1100, 9, 'fp16', true],
    [2, 5, 0, 'bf16', true],
  ];
  test.each(cases)('m %i, W [%i, %i] %s, transposed %s', (m, rows, cols, format, transposeW) => {
    const k = transposeW ? cols : rows;
    const n = transposeW ? rows : cols;
    const w = patterns(rows * cols, 3, format);
    const words = Math.ceil((rows * cols) / 2);
    const [xAt, wAt] = [7, 7 + m * k];
    const yAt = wAt + words;
    const heap = new Float32Array(yAt + m * n + 5).fill(Number.NaN);
    heap.set(values(m * k, 1), xAt);
    new Uint16Array(heap.buffer, wAt * 4, words * 2).fill(0).set(w);
    kernels.MmftMatMulPacked16(heap, { x: xAt, weight: wAt, y: yAt }, { m, rows, cols, format, transposeW });
    let [diff, scale] = [0, 0];
    for (let i = 0; i < m; i++)
      for (let j = 0; j < n; j++) {
        let ref = 0;
        for (let p = 0; p < k; p++) ref += heap[xAt + i * k + p]! * decode(w[transposeW ? j * cols + p : p * cols + j]!, format);
        diff = Math.max(diff, Math.abs(heap[yAt + i * n + j]! - ref));
        scale = Math.max(scale, Math.abs(ref));
      }
    expect(diff).toBeLessThanOrEqual(1e-5 * Math.max(scale, 1));
    expect(heap.subarray(0, 7).every(Number.isNaN)).toBe(true);
    expectNothingPast(heap, yAt + m * n);
  });

  test('fp16 subnormals and the largest half decode exactly', () => {
    // x = [1], W [3, 1] = 2⁻²⁴, −1023·2⁻²⁴, 65504: y = W.
    const heap = new Float32Array(8).fill(Number.NaN);
    heap[0] = 1;
    new Uint16Array(heap.buffer, 4, 4).set([0x0001, 0x83ff, 0x7bff, 0]);
    kernels.MmftMatMulPacked16(heap, { x: 0, weight: 1, y: 3 }, { m: 1, rows: 3, cols: 1, format: 'fp16', transposeW: true });
    expect(Array.from(heap.subarray(3, 6))).toEqual([2 ** -24, Math.fround(-1023 * 2 ** -24), 65504]);
  });

  test('operands past the end of the array are refused', () => {
    const heap = new Float32Array(16);
    const o = { m: 2, rows: 3, cols: 4, format: 'bf16', transposeW: true } as const;
    // x needs 8 floats, the weight 6 words, y 6 floats: each one past float 16 is refused.
    expect(() => kernels.MmftMatMulPacked16(heap, { x: 0, weight: 8, y: 10 }, o)).not.toThrow();
    expect(() => kernels.MmftMatMulPacked16(heap, { x: 0, weight: 8, y: 11 }, o)).toThrow(/past the end/);
    expect(() => kernels.MmftMatMulPacked16(heap, { x: 0, weight: 11, y: 0 }, o)).toThrow(/past the end/);
    expect(() => kernels.MmftMatMulPacked16(heap, { x: 9, weight: 0, y: 0 }, o)).toThrow(/past the end/);
    expect(() => kernels.MmftMatMulPacked16(heap, { x: 0, weight: 0, y: 0 }, { ...o, rows: 20 })).toThrow(/past the end/);
  });
});
