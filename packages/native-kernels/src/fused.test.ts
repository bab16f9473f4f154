// The native fused kernels (layerNorm, layerNormGrad, adamwUpdate) against float64 references
// written from the formulas (torch's LayerNorm and AdamW): widths with and without a tail of the
// 8-wide vectors, one and many rows (one and several threads), offsets that do not start at 0,
// outputs aliasing inputs (AdamW), nothing written outside the outputs, and bounds checks.
// Skipped, with the reason printed, when the addon is not built on this machine.
import { describe, expect, test } from '@jest/globals';
import { FUSED_PARALLEL_MIN_ELEMENTS, nativeKernelsStatus, type AdamWParams } from './index';
import { expectClose, layout, values } from './heap.test-helper';

const status = nativeKernelsStatus();
if (!status.available) console.warn(`native fused kernels not tested: ${status.reason}`);
const maybe = status.available ? describe : describe.skip;

function layerNormReference(x: Float64Array, gamma: Float64Array, beta: Float64Array, rows: number, cols: number, eps: number) {
  const y = new Float64Array(rows * cols);
  const dyOf = values(rows * cols, 77, 2);
  const dx = new Float64Array(rows * cols);
  const dgamma = new Float64Array(cols);
  const dbeta = new Float64Array(cols);
  for (let r = 0; r < rows; r++) {
    const row = x.subarray(r * cols, (r + 1) * cols);
    const mean = row.reduce((a, b) => a + b, 0) / cols;
    const variance = row.reduce((a, b) => a + (b - mean) ** 2, 0) / cols;
    const rstd = 1 / Math.sqrt(variance + eps);
    const xhat = Array.from(row, (v) => (v - mean) * rstd);
    const ghat = xhat.map((_, i) => dyOf[r * cols + i]! * gamma[i]!);
    const meanG = ghat.reduce((a, b) => a + b, 0) / cols;
    const meanGX = ghat.reduce((a, g, i) => a + g * xhat[i]!, 0) / cols;
    for (let i = 0; i < cols; i++) {
      y[r * cols + i] = xhat[i]! * gamma[i]! + beta[i]!;
      dx[r * cols + i] = rstd * (ghat[i]! - meanG - xhat[i]! * meanGX);
      dgamma[i]! += dyOf[r * cols + i]! * xhat[i]!;
      dbeta[i]! += dyOf[r * cols + i]!;
    }
  }
  return { y, dy: dyOf, dx, dgamma, dbeta };
}

maybe('native fused kernels', () => {
  const kernels = status.available ? status.kernels : undefined!;
  // [rows, cols, eps]: vector tails (cols % 8 ≠ 0), one column, and enough rows for several threads.
  const shapes: Array<[number, number, number]> = [
    [1, 1, 1e-5],
    [3, 5, 1e-5],
    [6, 16, 1e-5],
    [7, 33, 1e-12],
    [2080, 128, 1e-5],
    [1000, 77, 1e-5],
  ];

  test.each(shapes)('layerNorm and layerNormGrad, %i × %i, eps %d', (rows, cols, eps) => {
    const x = values(rows * cols, 1, 3, 0.5);
    const gamma = values(cols, 2, 0.4, 1);
    const beta = values(cols, 3, 0.5);
    const ref = layerNormReference(x, gamma, beta, rows, cols, eps);
    const { heap, at } = layout([x, gamma, beta, rows * cols, ref.dy, rows * cols, cols, cols]);
    const [xo, go, bo, yo, dyo, dxo, dgo, dbo] = at as [number, number, number, number, number, number, number, number];
    kernels.MmftLayerNorm(heap, xo, go, bo, yo, rows, cols, eps);
    kernels.MmftLayerNormGrad(heap, dyo, xo, go, dxo, dgo, dbo, rows, cols, eps);
    expectClose(heap.subarray(yo, yo + rows * cols), ref.y);
    expectClose(heap.subarray(dxo, dxo + rows * cols), ref.dx);
    expectClose(heap.subarray(dgo, dgo + cols), ref.dgamma);
    expectClose(heap.subarray(dbo, dbo + cols), ref.dbeta);
    expect(heap.subarray(0, 5).every(Number.isNaN)).toBe(true);
    expect(heap.subarray(heap.length - 3).every(Number.isNaN)).toBe(true);
    expectClose(heap.subarray(xo, xo + rows * cols), x, 0); // inputs untouched
  });

  test('the shapes above include one the kernels split across threads', () => {
    expect(2080 * 128).toBeGreaterThanOrEqual(FUSED_PARALLEL_MIN_ELEMENTS);
  });

  const adamCases: Array<[number, AdamWParams]> = [
    [1, { lr: 1e-3, beta1: 0.9, beta2: 0.999, eps: 1e-8, weightDecay: 0.01, step: 1 }],
    [37, { lr: 5e-4, beta1: 0.9, beta2: 0.98, eps: 1e-6, weightDecay: 0.2, step: 7 }],
    [16384, { lr: 1e-3, beta1: 0.8, beta2: 0.999, eps: 1e-8, weightDecay: 0, step: 3 }],
    [100003, { lr: 2e-3, beta1: 0.9, beta2: 0.999, eps: 1e-8, weightDecay: 0.05, step: 1000 }],
  ];

  test.each(adamCases)('adamwUpdate of %i elements, %j', (n, h) => {
    const p = values(n, 4);
    const g = values(n, 5, 0.1);
    const m = values(n, 6, 0.01);
    const v = Float64Array.from(values(n, 7, 1e-3), Math.abs);
    // torch.optim.AdamW, single-tensor path: bias corrections applied as torch does.
    const m2 = m.map((mi, i) => Math.fround(h.beta1 * mi + (1 - h.beta1) * g[i]!));
    const v2 = v.map((vi, i) => Math.fround(h.beta2 * vi + (1 - h.beta2) * g[i]! ** 2));
    const p2 = p.map((pi, i) => {
      const decayed = pi * (1 - h.lr * h.weightDecay);
      const denom = Math.sqrt(v2[i]!) / Math.sqrt(1 - h.beta2 ** h.step) + h.eps;
      return decayed - (h.lr / (1 - h.beta1 ** h.step)) * (m2[i]! / denom);
    });
    const { heap, at } = layout([p, g, m, v, n, n, n]);
    const [po, go, mo, vo, p2o, m2o, v2o] = at as [number, number, number, number, number, number, number];
    kernels.MmftAdamWUpdate(heap, { p: po, g: go, m: mo, v: vo }, { p: p2o, m: m2o, v: v2o }, n, h);
    expectClose(heap.subarray(p2o, p2o + n), p2);
    expectClose(heap.subarray(m2o, m2o + n), m2);
    expectClose(heap.subarray(v2o, v2o + n), v2);
    expect(heap.subarray(0, 5).every(Number.isNaN)).toBe(true);
    expect(heap.subarray(heap.length - 3).every(Number.isNaN)).toBe(true);
    // In place (outputs = inputs) gives the same values.
    kernels.MmftAdamWUpdate(heap, { p: po, g: go, m: mo, v: vo }, { p: po, m: mo, v: vo }, n, h);
    expect(Array.from(heap.subarray(po, po + n))).toEqual(Array.from(heap.subarray(p2o, p2o + n)));
    expect(Array.from(heap.subarray(vo, vo + n))).toEqual(Array.from(heap.subarray(v2o, v2o + n)));
  });

  test('operands past the end of the array, and bad arguments, are refused', () => {
    const heap = new Float32Array(64);
    const h: AdamWParams = { lr: 1e-3, beta1: 0.9, beta2: 0.999, eps: 1e-8, weightDecay: 0, step: 1 };
    expect(() => kernels.MmftLayerNorm(heap, 0, 0, 0, 40, 4, 8, 1e-5)).toThrow(/past the end/); // y 40..72
    expect(() => kernels.MmftLayerNorm(heap, 0, 60, 0, 0, 1, 8, 1e-5)).toThrow(/past the end/); // gamma 60..68
    expect(() => kernels.MmftLayerNorm(heap, 0, 0, 0, 0, 2 ** 40, 2 ** 40, 1e-5)).toThrow(/past the end/); // rows·cols overflows
    expect(() => kernels.MmftLayerNormGrad(heap, 0, 0, 0, 0, 0, 60, 1, 8, 1e-5)).toThrow(/past the end/);
    expect(() => kernels.MmftLayerNormGrad(heap, 33, 0, 0, 0, 0, 0, 4, 8, 1e-5)).toThrow(/past the end/);
    expect(() => kernels.MmftAdamWUpdate(heap, { p: 0, g: 0, m: 0, v: 0 }, { p: 0, m: 0, v: 57 }, 8, h)).toThrow(/past the end/);
    expect(() => kernels.MmftAdamWUpdate(heap, { p: 0, g: 0, m: 0, v: 0 }, { p: 0, m: 0, v: 0 }, 65, h)).toThrow(/past the end/);
    expect(() => kernels.MmftLayerNorm(heap, -1, 0, 0, 0, 1, 8, 1e-5)).toThrow(/non-negative integer/);
    expect(() => kernels.MmftLayerNorm(heap, 0.5, 0, 0, 0, 1, 8, 1e-5)).toThrow(/non-negative integer/);
    expect(() => kernels.MmftLayerNorm(heap, 0, 0, 0, 0, 1, 8, Number.NaN)).toThrow(/finite number/);
    expect(() => kernels.MmftLayerNorm(new Float64Array(64) as unknown as Float32Array, 0, 0, 0, 0, 1, 8, 1e-5)).toThrow(/Float32Array/);
    expect(() => kernels.MmftLayerNorm(heap, 0, 0, 0, 0, 0, 8, 1e-5)).not.toThrow(); // nothing to do
    heap.fill(7);
    expect(() => kernels.MmftLayerNormGrad(heap, 0, 0, 0, 0, 0, 0, 0, 8, 1e-5)).not.toThrow(); // zero rows: dgamma = dbeta = 0
    expect(heap.subarray(0, 8).every((value) => value === 0)).toBe(true);
  });
});
