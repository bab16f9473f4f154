// The native attention kernels (forward: context; backward: dq, dk, dv) against a
// float64 reference written from the formulas: per head, P = softmax(max(Q·Kᵀ·scale + mask, min)),
// C = P·V; dP = dC·Vᵀ, dS = P∘(dP − rowsum(dP∘P))·scale where unclamped, dQ = dS·K, dK = dSᵀ·Q,
// dV = Pᵀ·dC. Shapes: queries ≠ keys, a head width off the 8-wide vectors, one and several
// threads, a causal + padding mask broadcast over heads, a fully masked row, a mask broadcast over
// queries, offsets that do not start at 0, nothing written past the outputs, bounds checks.
// Skipped, with the reason printed, when the addon is not built on this machine.
import { describe, expect, test } from '@jest/globals';
import { nativeKernelsStatus, type AttentionOperands } from './index';
import { expectClose, values } from './heap.test-helper';

const status = nativeKernelsStatus();
if (!status.available) console.warn(`native attention not tested: ${status.reason}`);
const kernels = status.available ? status.kernels : undefined;
const maybe = kernels ? describe : describe.skip;
const MIN = -3.4028234663852886e38;

interface Case {
  B: number;
  H: number;
  T: number;
  S: number;
  hd: number;
  /** Multiplies Q·Kᵀ (default 1/√hd). */
  scale?: number;
  /** Mask shape [mb, mh, mt, S] and its value at (b, h, t, s). */
  mask: [number, number, number];
  masked: (b: number, h: number, t: number, s: number) => boolean;
}

function reference(c: Case, q: Float64Array, k: Float64Array, v: Float64Array, mask: Float64Array, dC: Float64Array) {
  const D = c.H * c.hd;
  const probs = new Float64Array(c.B * c.H * c.T * c.S);
  const [ctx, dq, dk, dv] = [
    new Float64Array(q.length),
    new Float64Array(q.length),
    new Float64Array(k.length),
    new Float64Array(v.length),
  ];
  const [mb, mh, mt] = c.mask;
  const scale = c.scale ?? 1 / Math.sqrt(c.hd);
  const maskAt = (b: number, h: number, t: number, s: number) =>
    mask[(((mb === 1 ? 0 : b) * mh + (mh === 1 ? 0 : h)) * mt + (mt === 1 ? 0 : t)) * c.S + s]!;
  for (let b = 0; b < c.B; b++)
    for (let h = 0; h < c.H; h++) {
      const Q = (t: number, d: number) => q[(b * c.T + t) * D + h * c.hd + d]!;
      const K = (s: number, d: number) => k[(b * c.S + s) * D + h * c.hd + d]!;
      const V = (s: number, d: number) => v[(b * c.S + s) * D + h * c.hd + d]!;
      const G = (t: number, d: number) => dC[(b * c.T + t) * D + h * c.hd + d]!;
      for (let t = 0; t < c.T; t++) {
        const raw = Array.from(
          { length: c.S },
          (_, s) => Array.from({ length: c.hd }, (_, d) => Q(t, d) * K(s, d)).reduce((x, y) => x + y, 0) * scale,
        );
        const z = raw.map((x, s) => Math.max(Math.fround(x + maskAt(b, h, t, s)), MIN));
        const kept = raw.map((x, s) => Math.fround(x + maskAt(b, h, t, s)) >= MIN);
        const max = z.reduce((x, y) => Math.max(x, y), -Infinity);
        const e = z.map((x) => Math.exp(x - max));
        const sum = e.reduce((x, y) => x + y, 0);
        const p = e.map((x) => x / sum);
        p.forEach((x, s) => (probs[((b * c.H + h) * c.T + t) * c.S + s] = x));
        for (let d = 0; d < c.hd; d++) ctx[(b * c.T + t) * D + h * c.hd + d] = p.reduce((acc, x, s) => acc + x * V(s, d), 0);
        const dP = Array.from({ length: c.S }, (_, s) =>
          Array.from({ length: c.hd }, (_, d) => G(t, d) * V(s, d)).reduce((x, y) => x + y, 0),
        );
        const dot = dP.reduce((acc, x, s) => acc + x * p[s]!, 0);
        const dS = p.map((x, s) => (kept[s] ? x * (dP[s]! - dot) * scale : 0));
        for (let s = 0; s < c.S; s++)
          for (let d = 0; d < c.hd; d++) {
            dq[(b * c.T + t) * D + h * c.hd + d]! += dS[s]! * K(s, d);
            dk[(b * c.S + s) * D + h * c.hd + d]! += dS[s]! * Q(t, d);
            dv[(b * c.S + s) * D + h * c.hd + d]! += p[s]! * G(t, d);
          }
      }
    }
  return { probs, ctx, dq, dk, dv };
}

function runCase(c: Case): void {
  const D = c.H * c.hd;
  const q = values(c.B * c.T * D, 1, 0.5);
  const k = values(c.B * c.S * D, 2, 0.5);
  const v = values(c.B * c.S * D, 3);
  const dC = values(c.B * c.T * D, 4);
  const [mb, mh, mt] = c.mask;
  const mask = new Float64Array(mb * mh * mt * c.S);
  for (let b = 0; b < mb; b++)
    for (let h = 0; h < mh; h++)
      for (let t = 0; t < mt; t++) for (let s = 0; s < c.S; s++) mask[((b * mh + h) * mt + t) * c.S + s] = c.masked(b, h, t, s) ? MIN : 0;
  const sizes = [q.length, k.length, v.length, mask.length, q.length, dC.length, q.length, k.length, v.length];
  const at: number[] = [];
  let next = 7;
  for (const n of sizes) {
    at.push(next);
    next += n;
  }
  const heap = new Float32Array(next + 4).fill(Number.NaN);
  [q, k, v, mask].forEach((part, i) => heap.set(part, at[i]));
  heap.set(dC, at[5]);
  const stride = (size: number, inner: number) => (size === 1 ? 0 : inner);
  const o: AttentionOperands = {
    batch: c.B,
    heads: c.H,
    queries: c.T,
    keys: c.S,
    headDim: c.hd,
    mask: { batch: stride(mb, mh * mt * c.S), head: stride(mh, mt * c.S), row: stride(mt, c.S) },
    scale: c.scale ?? 1 / Math.sqrt(c.hd),
    minValue: MIN,
  };
  const [qo, ko, vo, mo, co, go, dqo, dko, dvo] = at as [number, number, number, number, number, number, number, number, number];
  kernels!.MmftAttention(heap, { q: qo, k: ko, v: vo, mask: mo, context: co }, o);
  kernels!.MmftAttentionGrad(heap, { dContext: go, q: qo, k: ko, v: vo, mask: mo, dq: dqo, dk: dko, dv: dvo }, o);
  const ref = reference(c, q, k, v, mask, dC);
  expectClose(heap.subarray(co, co + ref.ctx.length), ref.ctx);
  expectClose(heap.subarray(dqo, dqo + ref.dq.length), ref.dq);
  expectClose(heap.subarray(dko, dko + ref.dk.length), ref.dk);
  expectClose(heap.subarray(dvo, dvo + ref.dv.length), ref.dv);
  expect(Array.from(heap.subarray(next)).every(Number.isNaN)).toBe(true);
}

maybe('native attention', () => {
  test('no masked keys, queries ≠ keys, head width 12, one thread', () =>
    runCase({ B: 2, H: 3, T: 5, S: 7, hd: 12, scale: 1, mask: [1, 1, 1], masked: () => false }));

  test('causal + padding mask [B, 1, T, S] with a fully masked row, several threads', () =>
    runCase({
      B: 4,
      H: 2,
      T: 33,
      S: 33,
      hd: 32,
      mask: [4, 1, 33],
      masked: (b, _h, t, s) => s > t || (b === 3 && s >= 27) || (b === 2 && t === 0),
    }));

  test('a key mask [B, 1, 1, S] and a per-head mask [1, H, T, S]', () => {
    runCase({ B: 3, H: 2, T: 9, S: 11, hd: 8, mask: [3, 1, 1], masked: (b, _h, _t, s) => s >= 11 - b });
    runCase({ B: 2, H: 2, T: 6, S: 6, hd: 5, mask: [1, 2, 6], masked: (_b, h, t, s) => (h === 0 ? s > t : s < t) });
  });

  test('bounds are checked', () => {
    const heap = new Float32Array(100);
    const o: AttentionOperands = {
      batch: 1,
      heads: 1,
      queries: 4,
      keys: 4,
      headDim: 4,
      mask: { batch: 0, head: 0, row: 0 },
      scale: 0.5,
      minValue: MIN,
    };
    expect(() => kernels!.MmftAttention(heap, { q: 0, k: 16, v: 32, mask: 48, context: 90 }, o)).toThrow(/past the end/);
    expect(() => kernels!.MmftAttention(heap, { q: 0, k: 16, v: 32, mask: 98, context: 68 }, o)).toThrow(/past the end/);
    expect(() =>
      kernels!.MmftAttention(heap, { q: 0, k: 16, v: 32, mask: 90, context: 68 }, { ...o, mask: { batch: 0, head: 0, row: 4 } }),
    ).toThrow(/past the end/);
    expect(() => kernels!.MmftAttentionGrad(heap, { dContext: 0, q: 0, k: 16, v: 32, mask: 48, dq: 52, dk: 68, dv: 90 }, o)).toThrow(
      /past the end/,
    );
  });
});
