import { describe, expect, it } from '@jest/globals';
import { bucketize, codeBounds, codeOf, dynamicMap, FP4_CODE, NF4_CODE } from './codebooks';

describe('codebooks', () => {
  it('NF4 is the sorted normal-float table with zero at index 7', () => {
    expect(NF4_CODE.length).toBe(16);
    expect(NF4_CODE[0]).toBe(-1);
    expect(NF4_CODE[7]).toBe(0);
    expect(NF4_CODE[15]).toBe(1);
    expect(NF4_CODE[8]).toBe(Math.fround(0.07958029955625534));
    for (let i = 1; i < 16; i++) expect(NF4_CODE[i]).toBeGreaterThan(NF4_CODE[i - 1]);
  });

  it("NF4 midpoints equal the thresholds hard-coded in bitsandbytes' CUDA dQuantizeNF4 (csrc/kernels.cu)", () => {
    // An independent check of the tie rule: CUDA tests x > threshold with these float literals.
    const cuda = [
      -0.8480964004993439, -0.6106329262256622, -0.4599952697753906, -0.33967943489551544, -0.23460740596055984, -0.13791173323988914,
      -0.045525018125772476, 0.03979014977812767, 0.1202552504837513, 0.2035212516784668, 0.2920137718319893, 0.3893125355243683,
      0.5016634166240692, 0.6427869200706482, 0.8614784181118011,
    ].map(Math.fround);
    const { bounds, order } = codeBounds(NF4_CODE);
    expect(Array.from(bounds)).toEqual(cuda);
    expect(Array.from(order)).toEqual([...Array(16).keys()]);
  });

  it('FP4 is E2M1 in bit-pattern order over 12, with +0 at both zero codes', () => {
    expect(Array.from(FP4_CODE.subarray(0, 8))).toEqual([0, 0.0625, 8, 12, 4, 6, 2, 3].map((v) => Math.fround(v / 12)));
    for (let i = 1; i < 8; i++) expect(FP4_CODE[i + 8]).toBe(-FP4_CODE[i]);
    expect(Object.is(FP4_CODE[8], 0)).toBe(true);
    // the stable sort puts code 0 before code 8, so 0 and negatives just below it take code 0, positives just above take 8
    const { order } = codeBounds(FP4_CODE);
    expect(Array.from(order)).toEqual([11, 10, 13, 12, 15, 14, 9, 0, 8, 1, 6, 7, 4, 5, 2, 3]);
  });

  it('codeOf returns a fresh copy and refuses unknown types', () => {
    const c = codeOf('nf4');
    c[0] = 5;
    expect(NF4_CODE[0]).toBe(-1);
    expect(codeOf('fp4')).toEqual(FP4_CODE);
    expect(() => codeOf('int4' as 'nf4')).toThrow(/unknown 4-bit quant type "int4"; use one of nf4, fp4/);
  });

  it('the dynamic map has 127 negatives, 0, 127 positives and 1, symmetric, smallest magnitude about 5.5e-7', () => {
    const m = dynamicMap();
    expect(m.length).toBe(256);
    for (let i = 1; i < 256; i++) expect(m[i]).toBeGreaterThan(m[i - 1]);
    expect(m[127]).toBe(0);
    expect(m[255]).toBe(1);
    expect(m[254]).toBe(Math.fround(0.99296875));
    expect(m[0]).toBe(-m[254]);
    for (let i = 0; i < 127; i++) expect(m[i]).toBe(-m[254 - i]);
    // the smallest decade: 1e-6 times the midpoint of linspace(0.1, 1, 2) = 0.55
    expect(m[128]).toBeCloseTo(5.5e-7, 12);
    const copy = dynamicMap();
    copy[0] = 7;
    expect(dynamicMap()[0]).toBe(m[0]);
  });

  it('bucketize sends a value equal to a bound to the lower bucket (torch right=False)', () => {
    const bounds = new Float32Array([-0.5, 0, 0.5]);
    expect([-1, -0.5, -0.4, 0, -0, 1e-9, 0.5, 0.6].map((x) => bucketize(x, bounds))).toEqual([0, 0, 1, 1, 1, 2, 2, 3]);
  });
});
