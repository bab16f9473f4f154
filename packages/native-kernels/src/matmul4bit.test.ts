// MmftMatMul4bit (a product with a weight held in 4 bits, bitsandbytes' blockwise layout) against a
// float64 reference that decodes each code by the rule written out here (element 2j in the high
// nibble, W[i] = code[nibble]·absmax[i / blockSize] rounded to float32): both directions of the
// weight, odd sizes (an odd element count, rows starting mid-byte and mid-block), blocks larger
// than the weight, column blocks over several threads, k = 0, and bounds checks. Skipped, with the
// reason printed, when the addon is not built.
import { describe, expect, test } from '@jest/globals';
import { nativeKernelsStatus } from './index';
import { expectNothingPast, values } from './heap.test-helper';

const status = nativeKernelsStatus();
if (!status.available) console.warn(`native kernels not tested: ${status.reason}`);
const maybe = status.available ? describe : describe.skip;

// bitsandbytes' NF4 table (get_4bit_type("nf4") in bitsandbytes/functional.py).
const NF4 = [
  -1.0, -0.6961928009986877, -0.5250730514526367, -0.39491748809814453, -0.28444138169288635, -0.18477343022823334, -0.09105003625154495,
  0.0, 0.07958029955625534, 0.16093020141124725, 0.24611230194568634, 0.33791524171829224, 0.44070982933044434, 0.5626170039176941,
  0.7229568362236023, 1.0,
];

/** The weight's value at element i. */
function weightAt(bytes: Uint8Array, absmax: Float64Array, blockSize: number, i: number): number {
  const byte = bytes[Math.floor(i / 2)]!;
  const nibble = i % 2 === 0 ? Math.floor(byte / 16) : byte % 16;
  return Math.fround(Math.fround(NF4[nibble]!) * absmax[Math.floor(i / blockSize)]!);
}

/** Lays out x, the packed bytes (as whole 4-byte words), absmax, code and y on a NaN heap from float 7. */
function setUp(m: number, rows: number, cols: number, blockSize: number, transposeW: boolean, seed: number) {
  const k = transposeW ? cols : rows;
  const n = transposeW ? rows : cols;
  const size = rows * cols;
  const bytes = Uint8Array.from({ length: Math.ceil(size / 2) }, (_, i) => (Math.imul(i + seed, 2654435761) >>> 13) & 0xff);
  const absmax = values(Math.ceil(size / blockSize), seed + 1, 0.5, 1);
  const words = Math.ceil(bytes.length / 4);
  const at = { x: 7, packed: 7 + m * k, absmax: 0, code: 0, y: 0 };
  at.absmax = at.packed + words;
  at.code = at.absmax + absmax.length;
  at.y = at.code + 16;
  const heap = new Float32Array(at.y + m * n + 5).fill(Number.NaN);
  heap.set(values(m * k, seed + 2), at.x);
  new Uint8Array(heap.buffer, at.packed * 4, words * 4).fill(0).set(bytes);
  heap.set(absmax, at.absmax);
  heap.set(NF4, at.code);
  return { heap, at, bytes, absmax, k, n };
}

maybe('native MmftMatMul4bit', () => {
  const kernels = status.available ? status.kernels : undefined!;
  const cases: Array<[number, number, number, number, boolean]> = [
    [1, 1, 1, 64, true],
    [1, 1, 3, 64, false],
    [3, 13, 37, 32, true],
    [3, 13, 37, 32, false],
    [5, 70, 301, 64, true],
    [5, 301, 70, 128, false],
    [40, 600, 33, 64, false],
    [130, 1100, 9, 4096, true],
    [1, 2049, 63, 64, true],
    [2, 5, 0, 64, true],
  ];
  test.each(cases)('m %i, W [%i, %i] in blocks of %i, transposed %s', (m, rows, cols, blockSize, transposeW) => {
    const { heap, at, bytes, absmax, k, n } = setUp(m, rows, cols, blockSize, transposeW, 3);
    kernels.MmftMatMul4bit(heap, at, { m, rows, cols, blockSize, transposeW });
    let [diff, scale] = [0, 0];
    for (let i = 0; i < m; i++)
      for (let j = 0; j < n; j++) {
        let ref = 0;
        for (let p = 0; p < k; p++)
          ref += heap[at.x + i * k + p]! * weightAt(bytes, absmax, blockSize, transposeW ? j * cols + p : p * cols + j);
        diff = Math.max(diff, Math.abs(heap[at.y + i * n + j]! - ref));
        scale = Math.max(scale, Math.abs(ref));
      }
    expect(diff).toBeLessThanOrEqual(1e-5 * Math.max(scale, 1));
    expect(heap.subarray(0, 7).every(Number.isNaN)).toBe(true);
    expectNothingPast(heap, at.y + m * n);
  });

  test('a hand-checked product: x [1, 3] · W [2, 3]ᵀ in blocks of 4', () => {
    // Bytes 0xF0 0x78 0x3C are codes 15 0 7 8 3 12; block 0 (elements 0–3) has absmax 1, block 1
    // (elements 4–5) absmax 2: W = [[1, −1, 0], [NF4[8], 2·NF4[3], 2·NF4[12]]].
    const heap = new Float32Array(32).fill(Number.NaN);
    heap.set([1, 2, 3], 0);
    new Uint8Array(heap.buffer, 12, 4).set([0xf0, 0x78, 0x3c, 0]);
    heap.set([1, 2], 4);
    heap.set(NF4, 6);
    kernels.MmftMatMul4bit(
      heap,
      { x: 0, packed: 3, absmax: 4, code: 6, y: 22 },
      { m: 1, rows: 2, cols: 3, blockSize: 4, transposeW: true },
    );
    expect(heap[22]).toBe(-1);
    const [w0, w1, w2] = [Math.fround(NF4[8]!), Math.fround(2 * Math.fround(NF4[3]!)), Math.fround(2 * Math.fround(NF4[12]!))];
    expect(heap[23]).toBeCloseTo(w0 + 2 * w1 + 3 * w2, 6);
    expect(heap[23]).toBeCloseTo(1.14417, 5);
  });

  test('operands past the end of the array are refused, and a bad block size', () => {
    const heap = new Float32Array(32);
    // W [3, 4]: 12 codes = 6 bytes = 2 words, 3 blocks of 4; x 8 floats, y 6.
    const o = { m: 2, rows: 3, cols: 4, blockSize: 4, transposeW: true } as const;
    const at = { x: 0, packed: 8, absmax: 10, code: 13, y: 26 };
    expect(() => kernels.MmftMatMul4bit(heap, at, o)).not.toThrow();
    expect(() => kernels.MmftMatMul4bit(heap, { ...at, y: 27 }, o)).toThrow(/past the end/);
    expect(() => kernels.MmftMatMul4bit(heap, { ...at, code: 17 }, o)).toThrow(/past the end/);
    expect(() => kernels.MmftMatMul4bit(heap, { ...at, absmax: 30 }, o)).toThrow(/past the end/);
    expect(() => kernels.MmftMatMul4bit(heap, { ...at, packed: 31 }, o)).toThrow(/past the end/);
    expect(() => kernels.MmftMatMul4bit(heap, at, { ...o, rows: 200 })).toThrow(/past the end/);
    expect(() => kernels.MmftMatMul4bit(heap, at, { ...o, blockSize: 6 })).toThrow(/power of two/);
  });
});
