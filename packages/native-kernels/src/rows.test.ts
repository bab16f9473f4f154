// The native row kernels (sumRows, quickGelu and its gradient, softmax with and without a
// broadcast mask and its gradient) against float64 references written from the formulas: widths
// with and without a tail of the 8-wide vectors, one and many rows (one and several threads),
// offsets that do not start at 0, extreme inputs (exp's underflow and saturation), a fully masked
// row, nothing written outside the outputs, and bounds checks. Skipped, with the reason printed,
// when the addon is not built on this machine.
import { describe, expect, test } from '@jest/globals';
import { FUSED_PARALLEL_MIN_ELEMENTS, nativeKernelsStatus, type SoftmaxOperands } from './index';
import { expectClose, expectNothingPast, layout, values } from './heap.test-helper';

const status = nativeKernelsStatus();
if (!status.available) console.warn(`native row kernels not tested: ${status.reason}`);
const kernels = status.available ? status.kernels : undefined;
const maybe = kernels ? describe : describe.skip;

const sigmoid = (v: number) => 1 / (1 + Math.exp(-1.702 * v));

maybe('native sumRows', () => {
  test.each([
    [1, 1],
    [3, 8],
    [65, 13],
    [2080, 128], // above the parallel threshold: several threads
  ])('%i × %i', (rows, cols) => {
    const x = values(rows * cols, rows + cols, 2);
    const { heap, at } = layout([x, cols]);
    kernels!.MmftSumRows(heap, at[0]!, at[1]!, rows, cols);
    const expected = new Float64Array(cols);
    for (let r = 0; r < rows; r++) for (let c = 0; c < cols; c++) expected[c]! += x[r * cols + c]!;
    expectClose(heap.subarray(at[1]!, at[1]! + cols), expected, 1e-6);
    expectNothingPast(heap, at[1]! + cols);
  });

  test('zero rows write zeros', () => {
    const { heap, at } = layout([0, 4]);
    kernels!.MmftSumRows(heap, at[0]!, at[1]!, 0, 4);
    expect(Array.from(heap.subarray(at[1]!, at[1]! + 4))).toEqual([0, 0, 0, 0]);
  });
});

maybe('native addRepeated', () => {
  test.each([
    [37, 37],
    [2080 * 128, 128], // a bias, above the parallel threshold
    [2080 * 128, 2080 * 128],
    [30, 3],
    [0, 0],
  ])('%i floats, b of %i', (n, m) => {
    const a = values(n, 5, 3);
    const b = values(m, 6, 2);
    const { heap, at } = layout([a, b, n]);
    kernels!.MmftAddRepeated(heap, at[0]!, at[1]!, at[2]!, n, m);
    const got = heap.subarray(at[2]!, at[2]! + n);
    expect(got.every((v, i) => v === Math.fround(a[i]! + b[i % m]!))).toBe(true);
    expectNothingPast(heap, at[2]! + n);
  });

  test('m must divide n, and bounds are checked', () => {
    const heap = new Float32Array(40);
    expect(() => kernels!.MmftAddRepeated(heap, 0, 10, 20, 10, 3)).toThrow(/multiple/);
    expect(() => kernels!.MmftAddRepeated(heap, 0, 10, 32, 10, 5)).toThrow(/past the end/);
  });
});

maybe('native sumOfSquares', () => {
  test.each([
    [[1]],
    [[37, 0, 8, 128 * 128, 5]],
    [Array.from({ length: 128 }, (_, i) => (i % 3 === 0 ? 16384 : 128))], // a small CLIP's gradients: several threads
  ])('sizes %j', (sizes) => {
    const parts = sizes.map((n, i) => values(n, i + 1, 2));
    const { heap, at } = layout(parts);
    const got = kernels!.MmftSumOfSquares(heap, Float64Array.from(at), Float64Array.from(sizes));
    const expected = parts.reduce((s, p) => s + p.reduce((t, v) => t + v * v, 0), 0);
    expect(Math.abs(got - expected)).toBeLessThanOrEqual(1e-12 * Math.max(1, expected));
  });

  test('no arrays sum to 0; bad arguments throw', () => {
    const heap = new Float32Array(16);
    expect(kernels!.MmftSumOfSquares(heap, new Float64Array(0), new Float64Array(0))).toBe(0);
    expect(() => kernels!.MmftSumOfSquares(heap, Float64Array.of(10), Float64Array.of(8))).toThrow(/past the end/);
    expect(() => kernels!.MmftSumOfSquares(heap, Float64Array.of(0, 1), Float64Array.of(2))).toThrow(/differ in length/);
    expect(() => kernels!.MmftSumOfSquares(heap, Float64Array.of(0.5), Float64Array.of(2))).toThrow(/past the end/);
  });
});

maybe('native quickGelu', () => {
  test.each([1, 8, 37, FUSED_PARALLEL_MIN_ELEMENTS + 9])('forward and gradient, %i floats', (n) => {
    const x = values(n, n, 6);
    x[0] = -100; // σ underflows to 0
    if (n > 1) x[1] = 100; // σ saturates at 1
    const dy = values(n, n + 1);
    const { heap, at } = layout([x, dy, n, n]);
    kernels!.MmftQuickGelu(heap, at[0]!, at[2]!, n);
    kernels!.MmftQuickGeluGrad(heap, at[1]!, at[0]!, at[3]!, n);
    const y = Float64Array.from(x, (v) => v * sigmoid(v));
    const dx = Float64Array.from(x, (v, i) => {
      const s = sigmoid(v);
      return dy[i]! * (s + 1.702 * v * s * (1 - s));
    });
    // Elementwise: each value within float32 precision of its own size (or 1e-6 near 0).
    const worst = (actual: Float32Array, expected: Float64Array) =>
      expected.reduce((w, e, i) => Math.max(w, Math.abs(actual[i]! - e) / Math.max(1, Math.abs(e))), 0);
    expect(worst(heap.subarray(at[2]!, at[2]! + n), y)).toBeLessThanOrEqual(1e-6);
    expect(worst(heap.subarray(at[3]!, at[3]! + n), dx)).toBeLessThanOrEqual(1e-6);
    expectNothingPast(heap, at[3]! + n);
  });
});

/** Float64 softmax of `operands` over x (and mask), as the kernels define it. */
function referenceSoftmax(x: Float64Array, mask: Float64Array | undefined, o: SoftmaxOperands): Float64Array {
  const y = new Float64Array(x.length);
  const rows = o.batch * o.heads * o.rows;
  for (let row = 0; row < rows; row++) {
    const [b, h, r] = [Math.floor(row / (o.heads * o.rows)), Math.floor(row / o.rows) % o.heads, row % o.rows];
    const m = o.mask ? o.mask.batch * b + o.mask.head * h + o.mask.row * r : 0;
    const z = Array.from({ length: o.cols }, (_, c) =>
      mask && o.mask ? Math.max(Math.fround(x[row * o.cols + c]! + mask[m + c]!), o.minValue) : x[row * o.cols + c]!,
    );
    const max = z.reduce((p, q) => Math.max(p, q), -Infinity);
    const e = z.map((v) => Math.exp(v - max));
    const sum = e.reduce((p, q) => p + q, 0);
    e.forEach((v, c) => (y[row * o.cols + c] = v / sum));
  }
  return y;
}

maybe('native softmax', () => {
  const MIN = -3.4028234663852886e38;
  test.each([
    ['no mask, tail', { batch: 2, heads: 3, rows: 5, cols: 13, minValue: MIN }],
    ['no mask, many rows', { batch: 32, heads: 4, rows: 65, cols: 65, minValue: MIN }],
  ])('%s: forward and gradient', (_, o: SoftmaxOperands) => {
    const size = o.batch * o.heads * o.rows * o.cols;
    const x = values(size, o.cols, 8);
    const dy = values(size, o.cols + 1);
    const { heap, at } = layout([x, dy, size, size]);
    kernels!.MmftSoftmax(heap, at[0]!, at[2]!, o);
    kernels!.MmftSoftmaxGrad(heap, { dy: at[1]!, y: at[2]!, x: at[0]!, dx: at[3]! }, o);
    const y = referenceSoftmax(x, undefined, o);
    expectClose(heap.subarray(at[2]!, at[2]! + size), y, 2e-6);
    expectClose(heap.subarray(at[3]!, at[3]! + size), referenceSoftmaxGrad(dy, y, x, undefined, o), 2e-6);
    expectNothingPast(heap, at[3]! + size);
  });

  test('a causal + padding mask broadcast over heads, with a fully masked row, and its gradient', () => {
    const o0 = { batch: 2, heads: 3, rows: 9, cols: 9 };
    const size = o0.batch * o0.heads * o0.rows * o0.cols;
    // mask [B, 1, T, S]: causal, batch 1 pads its last 3 keys, row 0 of batch 1 sees nothing.
    const mask = new Float64Array(o0.batch * o0.rows * o0.cols);
    for (let b = 0; b < o0.batch; b++)
      for (let r = 0; r < o0.rows; r++)
        for (let c = 0; c < o0.cols; c++) mask[(b * o0.rows + r) * o0.cols + c] = c > r || (b === 1 && (c >= 6 || r === 0)) ? MIN : 0;
    const x = values(size, 7, 5);
    const dy = values(size, 8);
    const { heap, at } = layout([x, dy, mask, size, size]);
    const o: SoftmaxOperands = { ...o0, mask: { offset: at[2]!, batch: o0.rows * o0.cols, head: 0, row: o0.cols }, minValue: MIN };
    kernels!.MmftSoftmax(heap, at[0]!, at[3]!, o);
    kernels!.MmftSoftmaxGrad(heap, { dy: at[1]!, y: at[3]!, x: at[0]!, dx: at[4]! }, o);
    const y = referenceSoftmax(x, mask, o);
    const y32 = heap.subarray(at[3]!, at[3]! + size);
    expectClose(y32, y, 2e-6);
    // Masked positions are exactly 0; the fully masked row is uniform.
    expect(y32[o0.cols * o0.rows * 0 + 1]).toBe(0);
    const fullyMasked = (1 * o0.heads + 2) * o0.rows * o0.cols; // batch 1, head 2, row 0
    expect(Array.from(y32.subarray(fullyMasked, fullyMasked + o0.cols)).every((v) => Math.abs(v - 1 / 9) < 1e-7)).toBe(true);
    expectClose(heap.subarray(at[4]!, at[4]! + size), referenceSoftmaxGrad(dy, y, x, mask, o), 2e-6);
  });

  test('bounds are checked', () => {
    const heap = new Float32Array(64);
    expect(() => kernels!.MmftSoftmax(heap, 0, 32, { batch: 1, heads: 1, rows: 4, cols: 9, minValue: 0 })).toThrow(/past the end/);
    expect(() =>
      kernels!.MmftSoftmax(heap, 0, 16, {
        batch: 1,
        heads: 2,
        rows: 2,
        cols: 4,
        mask: { offset: 60, batch: 0, head: 0, row: 4 },
        minValue: 0,
      }),
    ).toThrow(/past the end/);
    expect(() => kernels!.MmftSumRows(heap, 0, 62, 4, 4)).toThrow(/past the end/);
    expect(() => kernels!.MmftQuickGelu(heap, 0, 40, 32)).toThrow(/past the end/);
  });
});

function referenceSoftmaxGrad(
  dy: Float64Array,
  y: Float64Array,
  x: Float64Array,
  mask: Float64Array | undefined,
  o: SoftmaxOperands,
): Float64Array {
  const dx = new Float64Array(y.length);
  const rows = o.batch * o.heads * o.rows;
  for (let row = 0; row < rows; row++) {
    const [b, h, r] = [Math.floor(row / (o.heads * o.rows)), Math.floor(row / o.rows) % o.heads, row % o.rows];
    const m = o.mask ? o.mask.batch * b + o.mask.head * h + o.mask.row * r : 0;
    let dot = 0;
    for (let c = 0; c < o.cols; c++) dot += dy[row * o.cols + c]! * y[row * o.cols + c]!;
    for (let c = 0; c < o.cols; c++) {
      const i = row * o.cols + c;
      const kept = !(mask && o.mask) || Math.fround(x[i]! + mask[m + c]!) >= o.minValue;
      dx[i] = kept ? y[i]! * (dy[i]! - dot) : 0;
    }
  }
  return dx;
}
