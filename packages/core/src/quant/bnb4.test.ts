import { describe, expect, it } from '@jest/globals';
import { isMmftError } from '../errors';
import {
  absmaxFloat32,
  BLOCK_SIZES_4BIT,
  bitsPerParameter,
  dequantize4bit,
  dequantizeFp4,
  dequantizeNf4,
  quantize4bit,
  quantizeFp4,
  quantizeNf4,
} from './bnb4';
import { codeBounds, dynamicMap, FP4_CODE, NF4_CODE } from './codebooks';

const f32 = Math.fround;
const nextUp = (x: number): number => {
  const b = new Float32Array([x]);
  const u = new Int32Array(b.buffer);
  u[0] += x >= 0 ? 1 : -1;
  return b[0];
};
const nextDown = (x: number): number => -nextUp(-x);
const codesOf = (packed: Uint8Array, n: number): number[] =>
  Array.from({ length: n }, (_, i) => (i % 2 ? packed[i >> 1] & 15 : packed[i >> 1] >> 4));
const code = (e: unknown): string | undefined => (isMmftError(e) ? e.code : undefined);
const thrown = (fn: () => unknown): unknown => {
  try {
    fn();
  } catch (e) {
    return e;
  }
  throw new Error('expected a throw');
};

describe('quantize4bit: nearest code and ties', () => {
  it('NF4: each midpoint goes to the lower code, one ulp above to the upper, one below to the lower', () => {
    const { bounds } = codeBounds(NF4_CODE);
    // absmax 1 (first element) makes the scale exactly 1
    const values = [1];
    const expected = [15];
    bounds.forEach((b, i) => {
      values.push(b, nextUp(b), nextDown(b));
      expected.push(i, i + 1, i);
    });
    const q = quantizeNf4(Float32Array.from(values));
    expect(codesOf(q.packed, values.length)).toEqual(expected);
    expect(q.absmax).toEqual(new Float32Array([1]));
  });

  it('FP4: midpoints of the sorted code go low; the two zeros split at 0 (0 and below: code 0, above: code 8)', () => {
    const q = quantizeFp4(new Float32Array([1, -1, 0.5, -0.5, 0, -0, 1e-4, -1e-4, f32(0.0026041667), nextUp(f32(0.0026041667))]));
    // 1e-4 and -1e-4 lie inside (−0.0026, 0.0026): both round to zero, the sign picks which zero code
    expect(codesOf(q.packed, 10)).toEqual([3, 11, 5, 13, 0, 0, 8, 0, 8, 1]);
    expect(Array.from(dequantize4bit(q))).toEqual([1, -1, 0.5, -0.5, 0, 0, 0, 0, 0, FP4_CODE[1]]);
  });
});

describe('quantize4bit: packing, odd sizes, zero blocks, outliers', () => {
  it('packs element 2j in the high nibble and pads an odd count with the code of 0.0', () => {
    expect(Array.from(quantizeNf4(new Float32Array([1, -1])).packed)).toEqual([0xf0]);
    expect(Array.from(quantizeNf4(new Float32Array([-1, 1])).packed)).toEqual([0x0f]);
    // 0.5 lies below the 12|13 midpoint 0.50166 → code 12; the pad nibble is NF4 zero (7)
    expect(Array.from(quantizeNf4(new Float32Array([1, 0.5, -1])).packed)).toEqual([0xfc, 0x07]);
    // FP4's zero code is 0
    expect(Array.from(quantizeFp4(new Float32Array([1, 0.5, -1])).packed)).toEqual([0x35, 0xb0]);
  });

  it('an all-zero full block stores absmax 0 and codes of zero; a short one stores 1e-38', () => {
    const values = new Float32Array(32 + 5);
    values.fill(-0, 0, 16);
    const q = quantizeNf4(values, { blockSize: 32 });
    expect(Array.from(q.packed)).toEqual(new Array(19).fill(0x77));
    expect(Array.from(q.absmax)).toEqual([0, f32(1e-38)]);
    expect(Array.from(dequantize4bit(q)).every((v) => Object.is(v, 0))).toBe(true);
    const p = quantizeFp4(values, { blockSize: 32 });
    expect(Array.from(p.packed)).toEqual(new Array(19).fill(0));
  });

  it('an outlier takes the block scale; the small values of its block round to zero', () => {
    const values = new Float32Array(64).fill(0.01);
    values[5] = -1000;
    const q = quantizeNf4(values);
    expect(q.absmax[0]).toBe(1000);
    const out = dequantize4bit(q);
    expect(out[5]).toBe(-1000);
    expect(out[0]).toBe(0);
  });

  it('full blocks multiply by the float32 reciprocal of absmax, the short last block divides (the torch path)', () => {
    // x / a is exactly the NF4 midpoint between codes 0 and 1 (→ 0), x · f32(1/a) lands one ulp above it (→ 1)
    const a = 1.0001050233840942;
    const x = -0.8481854200363159;
    const values = new Float32Array(34);
    values.set([a, x], 0);
    values.set([a, x], 32);
    expect(f32(x / a)).toBe(codeBounds(NF4_CODE).bounds[0]);
    const q = quantizeNf4(values, { blockSize: 32 });
    expect(codesOf(q.packed, 34).slice(0, 2)).toEqual([15, 1]);
    expect(codesOf(q.packed, 34).slice(32)).toEqual([15, 0]);
  });

  it.each(BLOCK_SIZES_4BIT.map((b) => [b]))('block size %i: ⌈n/bs⌉ absmax values, the block maxima, error within half a code gap', (bs) => {
    const n = 2 * bs + 3;
    const values = Float32Array.from({ length: n }, (_, i) => Math.cos(i * 1.7) * (i % 5 === 0 ? 3 : 0.2));
    const q = quantizeNf4(values, { blockSize: bs });
    expect(q.absmax.length).toBe(3);
    expect(q.packed.length).toBe(Math.ceil(n / 2));
    for (let b = 0; b < 3; b++) expect(q.absmax[b]).toBe(Math.max(...Array.from(values.subarray(b * bs, (b + 1) * bs), Math.abs)));
    const out = dequantize4bit(q);
    // the widest NF4 gap is −1 … −0.69619 (half: 0.1519); scaled by the block absmax
    values.forEach((v, i) => expect(Math.abs(out[i] - v)).toBeLessThanOrEqual(0.152 * q.absmax[Math.floor(i / bs)]));
  });

  it('refuses block sizes bitsandbytes refuses, naming the allowed list', () => {
    for (const bs of [16, 48, 8192]) {
      const e = thrown(() => quantizeNf4(new Float32Array(64), { blockSize: bs }));
      expect(code(e)).toBe('E_CONFIG');
      expect((e as Error).message).toContain('use one of 32, 64, 128, 256, 512, 1024, 2048, 4096');
    }
  });

  it('refuses NaN and ±Infinity naming the element, and a shape that does not hold n', () => {
    const e = thrown(() => quantizeNf4(new Float32Array([0, 1, NaN]), { shape: [3] }));
    expect(code(e)).toBe('E_NUMERIC');
    expect((e as Error).message).toContain('element 2');
    expect(code(thrown(() => quantizeFp4(new Float32Array([Infinity, 0]))))).toBe('E_NUMERIC');
    expect(code(thrown(() => quantizeNf4(new Float32Array(6), { shape: [4, 2] })))).toBe('E_SHAPE');
  });

  it('dequantizeNf4 / dequantizeFp4 refuse the other type', () => {
    const q = quantizeFp4(new Float32Array([1, 2]));
    expect(code(thrown(() => dequantizeNf4(q)))).toBe('E_CONFIG');
    expect(Array.from(dequantizeFp4(q))).toEqual([1, 2]);
  });
});

describe('double quantisation', () => {
  it('offset = mean absmax; codes of (absmax − offset)/nested absmax; dequantised by code·scale + offset', () => {
    // four blocks of 32 with maxima 1, 2, 3, 6: offset 3, centred −2, −1, 0, 3, one short nested block with absmax 3
    const values = new Float32Array(128);
    [1, 2, 3, 6].forEach((m, b) => (values[b * 32 + 7] = b % 2 ? -m : m));
    const q = quantizeNf4(values, { blockSize: 32, doubleQuant: true });
    expect(q.nested!.offset).toBe(3);
    expect(Array.from(q.nested!.absmax)).toEqual([3]);
    const map = dynamicMap();
    const u8 = q.absmax as Uint8Array;
    expect(u8[2]).toBe(127); // 0 → the map's zero
    expect(u8[3]).toBe(255); // 3/3 = 1 → the map's one
    // −2/3 and −1/3 go to their nearest map entries
    const nearest = (x: number): number => map.reduce((best, v, i) => (Math.abs(v - x) < Math.abs(map[best] - x) ? i : best), 0);
    expect(u8[0]).toBe(nearest(f32(-2 / 3)));
    expect(u8[1]).toBe(nearest(f32(-1 / 3)));
    const scales = absmaxFloat32(q);
    expect(scales[2]).toBe(3);
    expect(scales[3]).toBe(6);
    expect(scales[0]).toBe(f32(f32(map[u8[0]] * 3) + 3));
  });

  it('recovers each absmax within half the widest dynamic-map gap (0.9/64/2) of its nested scale', () => {
    const n = 64 * 600 + 11; // 602 blocks: three nested blocks, the last one short
    const values = Float32Array.from({ length: n }, (_, i) => Math.sin(i * 0.37) * (1 + ((i >> 6) % 13)));
    const plain = quantizeNf4(values);
    const dq = quantizeNf4(values, { doubleQuant: true });
    expect(dq.packed).toEqual(plain.packed);
    expect(dq.nested!.absmax.length).toBe(3);
    const scales = absmaxFloat32(dq);
    const plainAbsmax = plain.absmax as Float32Array;
    scales.forEach((s, j) => expect(Math.abs(s - plainAbsmax[j])).toBeLessThanOrEqual((0.9 / 64 / 2) * dq.nested!.absmax[j >> 8] + 1e-6));
    const out = dequantize4bit(dq);
    values.forEach((v, i) =>
      expect(Math.abs(out[i] - v)).toBeLessThanOrEqual(0.152 * scales[i >> 6] + Math.abs(scales[i >> 6] - plainAbsmax[i >> 6])),
    );
  });
});

describe('bitsPerParameter', () => {
  it('is 4 + 8/64 + 32/(64·256) = 4.126953125 with double quantisation at block size 64, 4.5 without', () => {
    const values = new Float32Array(64 * 256 * 4).map((_, i) => ((i * 7919) % 1000) / 1000 - 0.5);
    expect(bitsPerParameter(quantizeNf4(values, { doubleQuant: true }))).toBe(4 + 8 / 64 + 32 / (64 * 256));
    expect(bitsPerParameter(quantizeNf4(values))).toBe(4.5);
    expect(bitsPerParameter(quantizeNf4(values, { blockSize: 128 }))).toBe(4.25);
  });

  it('counts the padded byte and the short blocks of small tensors', () => {
    // n = 3: 2 bytes + one f32 absmax = 48 bits
    expect(bitsPerParameter(quantize4bit(new Float32Array([1, 2, 3]), 'fp4'))).toBe(48 / 3);
  });
});
