// 16-bit rounding against bit patterns worked out by hand (and matching numpy's
// float32 → float16 cast and c10's round_to_nearest_even for bf16).
import { describe, expect, it } from '@jest/globals';
import { bf16BitsToFloat, fp16BitsToFloat, packBits16, packWeights16, roundToBf16Bits, roundToFp16Bits, unpackWeights16 } from './packed16';

const f32 = (bits: number): number => new Float32Array(Uint32Array.of(bits).buffer)[0]!;

describe('roundToBf16Bits', () => {
  it.each([
    [1, 0x3f80],
    [-2.5, 0xc020],
    // 65504 = 1.1111111111·2¹⁵: the 7 kept mantissa bits are all ones and the rest rounds up to 2¹⁶.
    [65504, 0x4780],
    [65520, 0x4780],
    // 1e-8 is 0x322BCC77 in float32: the dropped half 0xCC77 is above the tie.
    [1e-8, 0x322c],
    [Number.NaN, 0x7fc0],
    [-0, 0x8000],
    [Number.POSITIVE_INFINITY, 0x7f80],
  ])('%p → %p', (x, bits) => expect(roundToBf16Bits(x)).toBe(bits));

  it('breaks ties to even', () => {
    expect(roundToBf16Bits(f32(0x3f808000))).toBe(0x3f80); // kept part even: stays
    expect(roundToBf16Bits(f32(0x3f818000))).toBe(0x3f82); // kept part odd: up
    expect(roundToBf16Bits(f32(0x3f808001))).toBe(0x3f81); // above the tie: up
  });

  it('rounds the largest float32 to inf', () => expect(roundToBf16Bits(f32(0x7f7fffff))).toBe(0x7f80));
});

describe('roundToFp16Bits', () => {
  it.each([
    [1, 0x3c00],
    [-2.5, 0xc100],
    [65504, 0x7bff],
    // 65520 lies halfway between 65504 (odd mantissa) and 65536 (even, inf): inf.
    [65520, 0x7c00],
    [f32(0x477fefff), 0x7bff], // just below the tie
    [70000, 0x7c00],
    [-70000, 0xfc00],
    // 1e-8 is 0.17 of the smallest subnormal 2⁻²⁴: 0. 1e-7 is 1.68 of it: 2.
    [1e-8, 0x0000],
    [1e-7, 0x0002],
    [-1e-5, 0x80a8], // 167.77·2⁻²⁴ → 168
    [2 ** -14, 0x0400],
    [Number.NaN, 0x7e00],
    [-0, 0x8000],
  ])('%p → %p', (x, bits) => expect(roundToFp16Bits(x)).toBe(bits));

  it('breaks ties to even, normal and subnormal', () => {
    expect(roundToFp16Bits(1 + 2 ** -11)).toBe(0x3c00);
    expect(roundToFp16Bits(1 + 3 * 2 ** -11)).toBe(0x3c02);
    expect(roundToFp16Bits(2 ** -25)).toBe(0x0000);
    expect(roundToFp16Bits(3 * 2 ** -25)).toBe(0x0002);
    // Rounding up out of the subnormals lands on the smallest normal.
    expect(roundToFp16Bits(2 ** -14 - 2 ** -26)).toBe(0x0400);
  });

  it('round-trips every finite half exactly', () => {
    const wrong: number[] = [];
    for (let h = 0; h < 0x10000; h++) if ((h & 0x7c00) !== 0x7c00 && roundToFp16Bits(fp16BitsToFloat(h)) !== h) wrong.push(h);
    expect(wrong).toEqual([]);
  });
});

describe('decoding', () => {
  it('gives the values of hand-picked patterns', () => {
    expect(bf16BitsToFloat(0x3f80)).toBe(1);
    expect(bf16BitsToFloat(0xc020)).toBe(-2.5);
    expect(fp16BitsToFloat(0x7bff)).toBe(65504);
    expect(fp16BitsToFloat(0x0001)).toBe(2 ** -24);
    expect(fp16BitsToFloat(0x83ff)).toBe(-1023 * 2 ** -24);
    expect(fp16BitsToFloat(0xfc00)).toBe(Number.NEGATIVE_INFINITY);
    expect(fp16BitsToFloat(0x7e00)).toBeNaN();
  });

  it('round-trips every bf16 pattern exactly', () => {
    const isNaN = (h: number) => (h & 0x7f80) === 0x7f80 && (h & 0x7f) !== 0; // NaNs collapse to 0x7FC0
    const wrong: number[] = [];
    for (let h = 0; h < 0x10000; h++) if (!isNaN(h) && roundToBf16Bits(bf16BitsToFloat(h)) !== h) wrong.push(h);
    expect(wrong).toEqual([]);
  });
});

describe('packWeights16 / unpackWeights16', () => {
  it('packs two values per int32, the first in the low half', () => {
    const packed = packWeights16(Float32Array.of(1, -2.5, 65504), 'fp16');
    expect(packed.length).toBe(2);
    expect(packed[0]! >>> 0).toBe(0xc1003c00);
    expect(packed[1]! >>> 0).toBe(0x00007bff);
    expect([...unpackWeights16(packed, 3, 'fp16')]).toEqual([1, -2.5, 65504]);
  });

  it('rounds once and decodes exactly (bf16)', () => {
    const values = Float32Array.of(0.1, -3.14159, 1e-8, 1234.5678);
    const decoded = unpackWeights16(packWeights16(values, 'bf16'), 4, 'bf16');
    for (let i = 0; i < values.length; i++) expect(decoded[i]).toBe(bf16BitsToFloat(roundToBf16Bits(values[i]!)));
    // bf16 keeps 8 significant bits: an error of at most half a unit in the last place, ≤ |x|·2⁻⁸.
    for (let i = 0; i < values.length; i++) expect(Math.abs(decoded[i]! - values[i]!)).toBeLessThanOrEqual(Math.abs(values[i]!) * 2 ** -8);
  });

  it('packs raw 16-bit patterns unchanged', () => {
    const packed = packBits16(Uint16Array.of(0x3f80, 0xc020, 0x4780));
    expect([...unpackWeights16(packed, 3, 'bf16')]).toEqual([1, -2.5, 65536]);
  });

  it('refuses a packed array too short for the size', () => {
    expect(() => unpackWeights16(new Int32Array(1), 3, 'bf16')).toThrow(/1 int32 elements hold 2 values, not 3/);
  });
});
