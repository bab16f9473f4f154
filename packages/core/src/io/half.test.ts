import { describe, expect, test } from '@jest/globals';
import { bf16ToF32, f16ToF32, f32ToBf16, f32ToF16 } from './half';

const f16 = (...bits: number[]) => Array.from(f16ToF32(new Uint16Array(bits)));
const bf16 = (...bits: number[]) => Array.from(bf16ToF32(new Uint16Array(bits)));
const toF16 = (...values: number[]) => Array.from(f32ToF16(new Float32Array(values)));
const toBf16 = (...values: number[]) => Array.from(f32ToBf16(new Float32Array(values)));

describe('F16', () => {
  test('decodes hand-computed values', () => {
    // sign | exponent (5 bits, bias 15) | mantissa (10 bits)
    expect(f16(0x3c00, 0xc100, 0x7bff, 0x3555, 0x0000)).toEqual([1, -2.5, 65504, 0.333251953125, 0]);
    expect(Object.is(f16(0x8000)[0], -0)).toBe(true);
    expect(f16(0x0001, 0x03ff, 0x0400)).toEqual([2 ** -24, 1023 * 2 ** -24, 2 ** -14]); // subnormals, smallest normal
    expect(f16(0x7c00, 0xfc00)).toEqual([Infinity, -Infinity]);
    expect(Number.isNaN(f16(0x7e00)[0]) && Number.isNaN(f16(0xfc01)[0])).toBe(true);
  });

  test('encodes with round-to-nearest-even, overflow to inf, underflow to 0', () => {
    expect(toF16(1, -2.5, 65504, 65519, 65520, -1e6)).toEqual([0x3c00, 0xc100, 0x7bff, 0x7bff, 0x7c00, 0xfc00]);
    expect(toF16(1 + 2 ** -11, 1 + 3 * 2 ** -11)).toEqual([0x3c00, 0x3c02]); // ties go to the even mantissa
    expect(toF16(2 ** -24, 2 ** -25, 1.5 * 2 ** -25, 1e-9, -(2 ** -26))).toEqual([0x0001, 0x0000, 0x0001, 0x0000, 0x8000]);
    expect(toF16(1023 * 2 ** -24 + 2 ** -25)).toEqual([0x0400]); // tie at the top subnormal rounds up to the smallest normal
    expect(toF16(Infinity, NaN)[0]).toBe(0x7c00);
    expect(toF16(NaN)[0] & 0x7c00).toBe(0x7c00);
    expect(toF16(NaN)[0] & 0x3ff).not.toBe(0);
  });

  test('every one of the 65536 bit patterns survives decode → encode', () => {
    const all = new Uint16Array(65536).map((_, i) => i);
    expect(f32ToF16(f16ToF32(all))).toEqual(all);
  });
});

describe('BF16', () => {
  test('decodes hand-computed values', () => {
    expect(bf16(0x3f80, 0xc020, 0x4049, 0x7f7f)).toEqual([1, -2.5, 3.140625, 3.3895313892515355e38]);
    expect(bf16(0x0001)).toEqual([2 ** -133]); // smallest subnormal
    expect(bf16(0x7f80, 0xff80)).toEqual([Infinity, -Infinity]);
    expect(Number.isNaN(bf16(0x7fc0)[0])).toBe(true);
  });

  test('encodes with round-to-nearest-even; NaN stays NaN', () => {
    expect(toBf16(1, -2.5, 1 + 2 ** -8, 1 + 3 * 2 ** -8, 1 + 2 ** -8 + 2 ** -20)).toEqual([0x3f80, 0xc020, 0x3f80, 0x3f82, 0x3f81]);
    expect(toBf16(3.4028234663852886e38)).toEqual([0x7f80]); // rounds up past the largest bf16
    const nan = toBf16(NaN)[0];
    expect((nan & 0x7f80) === 0x7f80 && (nan & 0x7f) !== 0).toBe(true);
  });

  test('every one of the 65536 bit patterns survives decode → encode', () => {
    const all = new Uint16Array(65536).map((_, i) => i);
    expect(f32ToBf16(bf16ToF32(all))).toEqual(all);
  });
});
