// The native GEMM against a float64 reference: transposes through strides, broadcast batches,
// edge tiles (sizes that are not multiples of the 8×32 micro-tile), K = 0, and bounds checks.
// Skipped, with the reason printed, when the addon is not built on this machine.
import { describe, expect, test } from '@jest/globals';
import { nativeKernelsStatus, type StridedOperand } from './index';

const status = nativeKernelsStatus();
if (!status.available) console.warn(`native kernels not tested: ${status.reason}`);
const maybe = status.available ? describe : describe.skip;

function values(size: number, seed: number): Float32Array {
  const out = new Float32Array(size);
  let state = seed >>> 0;
  for (let i = 0; i < size; i++) {
    state = (Math.imul(state, 1664525) + 1013904223) >>> 0;
    out[i] = state / 2 ** 31 - 1;
  }
  return out;
}

maybe('native gemm', () => {
  const kernels = status.available ? status.kernels : undefined!;
  const cases: Array<[number, number, number, number, boolean, boolean, 'a' | 'b' | 'none']> = [
    [1, 1, 1, 1, false, false, 'none'],
    [1, 33, 29, 17, false, false, 'none'],
    [3, 65, 65, 32, false, true, 'none'],
    [3, 65, 32, 65, true, false, 'none'],
    [2, 40, 300, 600, true, true, 'none'],
    [4, 9, 70, 31, false, false, 'b'],
    [4, 130, 33, 8, false, true, 'a'],
    [1, 700, 600, 5, false, false, 'none'],
    [2, 5, 7, 0, false, false, 'none'],
  ];
  test.each(cases)('batch %i, m %i, n %i, k %i, transposeA %s, transposeB %s, broadcast %s', (batches, m, n, k, tA, tB, broadcast) => {
    const aSlices = broadcast === 'a' ? 1 : batches;
    const bSlices = broadcast === 'b' ? 1 : batches;
    const heap = new Float32Array(7 + aSlices * m * k + bSlices * k * n + batches * m * n).fill(Number.NaN);
    heap.set(values(aSlices * m * k, 1), 7);
    const bOffset = 7 + aSlices * m * k;
    heap.set(values(bSlices * k * n, 2), bOffset);
    const cOffset = bOffset + bSlices * k * n;
    const a: StridedOperand = { offset: 7, batch: broadcast === 'a' ? 0 : m * k, row: tA ? 1 : k, col: tA ? m : 1 };
    const b: StridedOperand = { offset: bOffset, batch: broadcast === 'b' ? 0 : k * n, row: tB ? 1 : n, col: tB ? k : 1 };
    kernels.MmftGemm(heap, batches, m, n, k, a, b, cOffset);
    let diff = 0;
    let scale = 0;
    for (let s = 0; s < batches; s++)
      for (let i = 0; i < m; i++)
        for (let j = 0; j < n; j++) {
          let ref = 0;
          for (let p = 0; p < k; p++)
            ref += heap[a.offset + s * a.batch + i * a.row + p * a.col]! * heap[b.offset + s * b.batch + p * b.row + j * b.col]!;
          diff = Math.max(diff, Math.abs(heap[cOffset + s * m * n + i * n + j]! - ref));
          scale = Math.max(scale, Math.abs(ref));
        }
    expect(diff).toBeLessThanOrEqual(1e-5 * Math.max(scale, 1));
    expect(heap.subarray(0, 7).every(Number.isNaN)).toBe(true); // nothing before the operands was touched
  });

  test('operands past the end of the array are refused', () => {
    const heap = new Float32Array(16);
    const op = (offset: number): StridedOperand => ({ offset, batch: 4, row: 2, col: 1 });
    expect(() => kernels.MmftGemm(heap, 1, 2, 2, 2, op(0), op(4), 13)).toThrow(/past the end/); // a RangeError of the main realm, not jest's
    expect(() => kernels.MmftGemm(heap, 2, 2, 2, 2, op(0), op(12), 8)).toThrow(/past the end/);
    expect(() => kernels.MmftGemm(heap, 1, 2, 2, 2, op(-1), op(4), 8)).toThrow(/non-negative/);
  });

  test('reports its instruction set and thread count', () => {
    expect(['avx512', 'avx2', 'generic']).toContain(kernels.isa);
    expect(kernels.threads).toBeGreaterThanOrEqual(1);
  });
});
