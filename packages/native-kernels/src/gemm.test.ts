// The native GEMM against a float64 reference: transposes through strides, broadcast batches,
// edge tiles (sizes that are not multiples of the 8×32 micro-tile), K = 0, and bounds checks; the
// unpacked path for thin products (N ≤ 32, K ≤ 16, M ≤ 16: src/cc/gemm.cc useDirect) at shapes on
// both sides of each threshold, and the same bits from both paths.
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

maybe('native gemm, thin products (the unpacked path)', () => {
  const kernels = status.available ? status.kernels : undefined!;

  // C = A·B for one slice; A [m, k] and B [k, n] row-major (or stored transposed), `bRow` floats per B row when not.
  function product(m: number, n: number, k: number, a: Float32Array, b: Float32Array, tA: boolean, tB: boolean, bRow = n) {
    const heap = new Float32Array(a.length + b.length + m * n).fill(Number.NaN);
    heap.set(a, 0);
    heap.set(b, a.length);
    const aOp: StridedOperand = { offset: 0, batch: 0, row: tA ? 1 : k, col: tA ? m : 1 };
    const bOp: StridedOperand = { offset: a.length, batch: 0, row: tB ? 1 : bRow, col: tB ? k : 1 };
    kernels.MmftGemm(heap, 1, m, n, k, aOp, bOp, a.length + b.length);
    return { c: heap.slice(a.length + b.length), aOp, bOp, heap };
  }

  // Shapes either side of N = 32, K = 16 and M = 16 (the last with B contiguous and transposed), K past one
  // 256-deep block, fewer than 4 rows, N not a multiple of 8, and row chunks over two threads (M·N·K ≥ 65536).
  const cases: Array<[number, number, number, boolean, boolean]> = [
    [50, 32, 300, false, false],
    [50, 33, 300, false, true],
    [37, 8, 600, true, true],
    [37, 45, 16, false, true],
    [37, 45, 17, true, false],
    [16, 70, 40, false, false],
    [17, 70, 40, false, false],
    [16, 70, 40, false, true],
    [3, 5, 3, false, false],
    [1024, 8, 64, false, true],
    [8, 256, 1024, true, false],
  ];
  test.each(cases)('m %i, n %i, k %i, transposeA %s, transposeB %s: within 1e-5 of a float64 product', (m, n, k, tA, tB) => {
    const { c, aOp, bOp, heap } = product(m, n, k, values(m * k, 3), values(k * n, 4), tA, tB);
    let diff = 0;
    let scale = 0;
    for (let i = 0; i < m; i++)
      for (let j = 0; j < n; j++) {
        let ref = 0;
        for (let p = 0; p < k; p++) ref += heap[aOp.offset + i * aOp.row + p * aOp.col]! * heap[bOp.offset + p * bOp.row + j * bOp.col]!;
        diff = Math.max(diff, Math.abs(c[i * n + j]! - ref));
        scale = Math.max(scale, Math.abs(ref));
      }
    expect(diff).toBeLessThanOrEqual(1e-5 * Math.max(scale, 1));
  });

  // Each element is summed in the same order by both paths, so a product just inside a threshold and one
  // just outside it that share an element's row of A and column of B give that element the same bits.
  const bits = (x: Float32Array) => Array.from(new Uint32Array(x.buffer, x.byteOffset, x.length));

  test('N = 32 (unpacked) and N = 40 (blocked) agree bit for bit on the shared columns', () => {
    const [m, k] = [48, 300];
    const a = values(m * k, 5);
    const b = values(k * 40, 6);
    const thin = product(m, 32, k, a, b, false, false, 40).c;
    const wide = product(m, 40, k, a, b, false, false).c;
    const shared = new Float32Array(m * 32);
    for (let i = 0; i < m; i++) shared.set(wide.subarray(i * 40, i * 40 + 32), i * 32);
    expect(bits(thin)).toEqual(bits(shared));
  });

  test('M = 16 (unpacked) and M = 24 (blocked) agree bit for bit on the shared rows', () => {
    const [n, k] = [70, 300];
    const a = values(24 * k, 7);
    const b = values(k * n, 8);
    const thin = product(16, n, k, a.subarray(0, 16 * k), b, false, false).c;
    const tall = product(24, n, k, a, b, false, false).c;
    expect(bits(thin)).toEqual(bits(tall.subarray(0, 16 * n)));
  });

  test('K = 16 (unpacked) and K = 17 with a zero last term (blocked) agree bit for bit', () => {
    const [m, n] = [40, 50];
    const a16 = values(m * 16, 9);
    const b16 = values(16 * n, 10);
    const a17 = new Float32Array(m * 17);
    for (let i = 0; i < m; i++) a17.set(a16.subarray(i * 16, i * 16 + 16), i * 17);
    const b17 = new Float32Array(17 * n);
    b17.set(b16);
    const thin = product(m, n, 16, a16, b16, false, false).c;
    const deep = product(m, n, 17, a17, b17, false, false).c;
    expect(bits(thin)).toEqual(bits(deep));
  });
});
