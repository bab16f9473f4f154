// The native cross-entropy and its gradient against float64 references written from the formulas
// (lse = log Σ exp x, loss = lse − x[label], dx = softmax·(dy + dlse) − onehot·dy, dy not reaching
// ignored rows): vocabularies with and
// without a tail of the 8-wide vectors, one and many rows (one and several threads), ignored rows
// (-100 and another ignore value), large logits where lse − x[label] would cancel, −∞ logits, an
// invalid label (NaN, nothing read out of range), nothing written outside the outputs, and bounds
// checks. Skipped, with the reason printed, when the addon is not built on this machine.
import { describe, expect, test } from '@jest/globals';
import { FUSED_PARALLEL_MIN_ELEMENTS, nativeKernelsStatus } from './index';
import { expectClose, expectNothingPast, layout, values } from './heap.test-helper';

const status = nativeKernelsStatus();
if (!status.available) console.warn(`native cross-entropy not tested: ${status.reason}`);
const kernels = status.available ? status.kernels : undefined;
const maybe = kernels ? describe : describe.skip;

/** Float64 lse, loss and dlogits of each row, straight from the definitions. */
function reference(x: Float64Array, labels: Int32Array, dy: Float64Array, dlse: Float64Array, cols: number, ignoreIndex: number) {
  const rows = labels.length;
  const [lse, loss, dx] = [new Float64Array(rows), new Float64Array(rows), new Float64Array(rows * cols)];
  for (let r = 0; r < rows; r++) {
    const row = x.subarray(r * cols, (r + 1) * cols);
    const peak = row.reduce((m, v) => Math.max(m, v), -Infinity);
    const sum = row.reduce((s, v) => s + Math.exp(v - peak), 0);
    lse[r] = peak + Math.log(sum);
    const label = labels[r]!;
    const g = label === ignoreIndex ? 0 : dy[r]!;
    if (label !== ignoreIndex) loss[r] = peak - row[label]! + Math.log(sum);
    for (let c = 0; c < cols; c++) dx[r * cols + c] = (Math.exp(row[c]! - peak) / sum) * (g + dlse[r]!) - (c === label ? g : 0);
  }
  return { lse, loss, dx };
}

/**
 * Lays out logits, labels (int32 bits), dy, dlse (zeros unless given) and the three outputs on a
 * NaN heap; runs both kernels.
 */
function run(
  x: Float64Array,
  labels: Int32Array,
  dy: Float64Array,
  cols: number,
  ignoreIndex = -100,
  dlse: Float64Array = new Float64Array(labels.length),
) {
  const rows = labels.length;
  const { heap, at } = layout([x, rows, dy, dlse, rows, rows, rows * cols]);
  new Int32Array(heap.buffer).set(labels, at[1]);
  const [logitsAt, labelsAt, dyAt, dlseAt, lossAt, lseAt, dxAt] = at as [number, number, number, number, number, number, number];
  const o = { rows, cols, ignoreIndex };
  kernels!.MmftCrossEntropy(heap, { logits: logitsAt, labels: labelsAt, loss: lossAt, lse: lseAt }, o);
  kernels!.MmftCrossEntropyGrad(heap, { dy: dyAt, dlse: dlseAt, logits: logitsAt, labels: labelsAt, lse: lseAt, dx: dxAt }, o);
  expectNothingPast(heap, dxAt + rows * cols);
  return {
    heap,
    loss: heap.slice(lossAt, lossAt + rows),
    lse: heap.slice(lseAt, lseAt + rows),
    dx: heap.slice(dxAt, dxAt + rows * cols),
    inputsUntouched: heap.slice(logitsAt, logitsAt + rows * cols).every((v, i) => v === x[i]),
  };
}

const labelsFor = (rows: number, cols: number, ignored: (r: number) => boolean, ignoreIndex = -100) =>
  Int32Array.from({ length: rows }, (_, r) => (ignored(r) ? ignoreIndex : (r * 7919 + 3) % cols));

maybe('native cross-entropy', () => {
  test.each([
    [1, 1],
    [3, 8],
    [5, 13],
    [4, 37],
    [7, 1001],
    [Math.ceil(FUSED_PARALLEL_MIN_ELEMENTS / 997) + 3, 997], // above the parallel threshold: several threads
  ])('%i rows × %i logits: lse, loss and gradient, ignored rows 0', (rows, cols) => {
    const x = values(rows * cols, rows + cols, 6);
    const labels = labelsFor(rows, cols, (r) => r % 3 === 1);
    const dy = values(rows, rows, 2, 1);
    const got = run(x, labels, dy, cols);
    const expected = reference(x, labels, dy, new Float64Array(labels.length), cols, -100);
    expectClose(got.lse, expected.lse, 1e-6);
    expectClose(got.loss, expected.loss, 2e-6);
    expectClose(got.dx, expected.dx, 2e-6);
    labels.forEach((label, r) => {
      if (label !== -100) return;
      expect(got.loss[r]).toBe(0);
      expect(got.dx.subarray(r * cols, (r + 1) * cols).every((v) => v === 0)).toBe(true);
    });
    expect(got.inputsUntouched).toBe(true);
  });

  test('the gradient of lse too: softmax·dlse added, and alone on ignored rows', () => {
    const [rows, cols] = [6, 21];
    const x = values(rows * cols, 9, 5);
    const labels = labelsFor(rows, cols, (r) => r % 2 === 0);
    const [dy, dlse] = [values(rows, 4, 1, 1), values(rows, 8, 2)];
    dlse[2] = 0; // an ignored row with no lse gradient: exactly zero
    const got = run(x, labels, dy, cols, -100, dlse);
    expectClose(got.dx, reference(x, labels, dy, dlse, cols, -100).dx, 2e-6);
    expect(got.dx.subarray(2 * cols, 3 * cols).every((v) => v === 0)).toBe(true);
    expect(got.dx.subarray(0, cols).some((v) => v !== 0)).toBe(true);
  });

  test('a hand-checked row: logits [0, ln 3] with label 1', () => {
    // Σ exp = 1 + 3 = 4, so lse = ln 4, loss = ln 4 − ln 3, softmax = [1/4, 3/4].
    const got = run(Float64Array.of(0, Math.fround(Math.log(3))), Int32Array.of(1), Float64Array.of(2), 2);
    expect(got.lse[0]).toBeCloseTo(Math.log(4), 6);
    expect(got.loss[0]).toBeCloseTo(Math.log(4 / 3), 6);
    expect(Array.from(got.dx)).toEqual([expect.closeTo(0.5, 6), expect.closeTo(-0.5, 6)]);
  });

  test('large logits: the loss is exact where lse − x[label] would cancel', () => {
    // Rows near 3·10⁴: float32 spacing there is 2⁻⁹, more than the loss of a confident row.
    const [rows, cols] = [6, 29];
    const x = Float64Array.from(values(rows * cols, 5, 4), (v, i) => Math.fround(v + 30000 + (i % cols === 3 ? 12 : 0)));
    const labels = Int32Array.of(3, 3, 0, -100, 3, 28);
    const dy = Float64Array.from({ length: rows }, () => 1);
    const got = run(x, labels, dy, cols);
    const expected = reference(x, labels, dy, new Float64Array(labels.length), cols, -100);
    for (let r = 0; r < rows; r++) {
      expect(Math.abs(got.loss[r]! - expected.loss[r]!)).toBeLessThanOrEqual(1e-6 * Math.max(1, expected.loss[r]!));
    }
    // exp(x − lse) with lse rounded to float32 near 3·10⁴: ~2⁻⁹ relative, as tf.exp(x − lse) has.
    expectClose(got.dx, expected.dx, 4e-3);
  });

  test('−∞ logits take no probability; another ignore value; an invalid label gives NaN and reads nothing', () => {
    const cols = 9;
    const x = values(3 * cols, 11, 3);
    x[2] = -Infinity;
    x[cols + 4] = -Infinity;
    const labels = Int32Array.of(1, 7, 0);
    const got = run(x, labels, Float64Array.of(1, 1, 1), cols, 7); // row 1 ignored by ignoreIndex 7
    const expected = reference(x, labels, Float64Array.of(1, 1, 1), new Float64Array(3), cols, 7);
    expect(got.dx[2]).toBe(0);
    expect(got.loss[1]).toBe(0);
    expectClose(got.loss, expected.loss, 2e-6);
    expectClose(got.dx, expected.dx, 2e-6);
    for (const bad of [cols, -1, 2 ** 31 - 1]) {
      const wrong = run(values(cols, 2), Int32Array.of(bad), Float64Array.of(1), cols);
      expect(Number.isNaN(wrong.loss[0])).toBe(true);
      expect(wrong.dx.every(Number.isNaN)).toBe(true);
      expect(Number.isFinite(wrong.lse[0])).toBe(true);
    }
  });

  test('operands past the end throw; ignoreIndex must be an int32', () => {
    const heap = new Float32Array(64);
    const o = { rows: 4, cols: 8, ignoreIndex: -100 };
    expect(() => kernels!.MmftCrossEntropy(heap, { logits: 40, labels: 0, loss: 4, lse: 8 }, o)).toThrow(/past the end/);
    expect(() => kernels!.MmftCrossEntropy(heap, { logits: 0, labels: 62, loss: 32, lse: 36 }, o)).toThrow(/past the end/);
    expect(() => kernels!.MmftCrossEntropyGrad(heap, { dy: 0, dlse: 0, logits: 0, labels: 0, lse: 0, dx: 40 }, o)).toThrow(/past the end/);
    expect(() => kernels!.MmftCrossEntropyGrad(heap, { dy: 0, dlse: 62, logits: 0, labels: 0, lse: 0, dx: 32 }, o)).toThrow(/past the end/);
    expect(() => kernels!.MmftCrossEntropy(heap, { logits: 0, labels: 32, loss: 36, lse: 40 }, { ...o, ignoreIndex: -0.5 })).toThrow(
      /must be an int32/,
    );
    expect(() => kernels!.MmftCrossEntropy(heap, { logits: 0, labels: 32, loss: 36, lse: 40 }, { ...o, rows: -1 })).toThrow(/non-negative/);
  });

  test('no rows write nothing; an empty vocabulary gives lse −∞ and NaN for a scored row', () => {
    const { heap, at } = layout([0, 0, 0, 0]);
    kernels!.MmftCrossEntropy(heap, { logits: at[0]!, labels: at[1]!, loss: at[2]!, lse: at[3]! }, { rows: 0, cols: 5, ignoreIndex: -100 });
    expect(heap.every(Number.isNaN)).toBe(true);
    const small = layout([0, 2, 2, 2]);
    new Int32Array(small.heap.buffer).set([-100, 0], small.at[1]);
    const at2 = { logits: small.at[0]!, labels: small.at[1]!, loss: small.at[2]!, lse: small.at[3]! };
    kernels!.MmftCrossEntropy(small.heap, at2, { rows: 2, cols: 0, ignoreIndex: -100 });
    expect(Array.from(small.heap.subarray(at2.lse, at2.lse + 2))).toEqual([-Infinity, -Infinity]);
    expect(small.heap[at2.loss]).toBe(0);
    expect(Number.isNaN(small.heap[at2.loss + 1])).toBe(true);
  });
});
