// 16-bit storage of frozen weights (tfjs has no float16 or bfloat16 dtype): values rounded to bf16
// or IEEE fp16 bit patterns, two per int32 element (element 2i in the low half, so a Uint16Array
// view of the little-endian buffer reads them in order). The rounding follows c10/util/BFloat16.h
// (round_to_nearest_even: NaN → 0x7FC0) and c10/util/Half.h (fp16_ieee_from_fp32_value: round to
// nearest even, overflow to ±inf, subnormals kept, NaN → sign | 0x7E00), as torch's `.to(dtype)`.

/** The 16-bit formats a frozen weight can be stored in. */
export type Half16Format = 'bf16' | 'fp16';

/** The formats, for schemas and error messages. */
export const HALF16_FORMATS: readonly Half16Format[] = ['bf16', 'fp16'];

const scratch = new DataView(new ArrayBuffer(4));
const bitsOf = (x: number): number => {
  scratch.setFloat32(0, x, true);
  return scratch.getUint32(0, true);
};
const floatOf = (bits: number): number => {
  scratch.setUint32(0, bits >>> 0, true);
  return scratch.getFloat32(0, true);
};

/**
 * The bf16 bit pattern of `x` rounded to float32 first, then to nearest even on the low 16 bits.
 *
 * @example
 * roundToBf16Bits(1); // 0x3f80
 */
export function roundToBf16Bits(x: number): number {
  if (Number.isNaN(x)) return 0x7fc0;
  const u = bitsOf(x);
  // Adding 0x7FFF plus the kept part's lowest bit rounds to nearest, ties to even (and carries
  // into the exponent, so the largest finite values round to inf as torch's do).
  return ((u + 0x7fff + ((u >>> 16) & 1)) >>> 16) & 0xffff;
}

/**
 * The IEEE half bit pattern of `x` rounded to float32 first: round to nearest even, ±inf beyond
 * 65504 (from 65520, the tie, up), subnormals down to 2⁻²⁴, NaN → sign | 0x7E00.
 *
 * @example
 * roundToFp16Bits(65504); // 0x7bff
 */
export function roundToFp16Bits(x: number): number {
  const u = bitsOf(x);
  const sign = (u >>> 16) & 0x8000;
  const a = u & 0x7fffffff;
  if (a > 0x7f800000) return sign | 0x7e00;
  if (a >= 0x477ff000) return sign | 0x7c00; // ≥ 65520 (inf included)
  if (a >= 0x38800000) {
    // Normal half: rebias the exponent, keep 10 mantissa bits, round the 13 dropped.
    let half = ((((a >>> 23) - 112) << 10) | ((a >>> 13) & 0x3ff)) >>> 0;
    const rest = a & 0x1fff;
    if (rest > 0x1000 || (rest === 0x1000 && (half & 1) === 1)) half += 1; // a carry moves to the next binade
    return sign | half;
  }
  if (a <= 0x33000000) return sign; // ≤ 2⁻²⁵: the tie with 2⁻²⁴ goes to even, 0
  // Subnormal half: |x| / 2⁻²⁴ = M · 2^(e − 126) for the 24-bit significand M.
  const e = a >>> 23;
  const m = (a & 0x7fffff) | 0x800000;
  const shift = 126 - e; // 14 … 24
  let q = m >>> shift;
  const rest = m - q * 2 ** shift;
  const halfway = 2 ** (shift - 1);
  if (rest > halfway || (rest === halfway && (q & 1) === 1)) q += 1; // 0x400 is the smallest normal: still right
  return sign | q;
}

/** The float32 value of a bf16 bit pattern (exact). */
export const bf16BitsToFloat = (h: number): number => floatOf((h & 0xffff) << 16);

/** The float32 value of an IEEE half bit pattern (exact). */
export function fp16BitsToFloat(h: number): number {
  const sign = (h & 0x8000) << 16;
  const exp = (h >>> 10) & 0x1f;
  const mant = h & 0x3ff;
  if (exp === 0) return (sign ? -1 : 1) * mant * 2 ** -24;
  if (exp === 0x1f) return floatOf(sign | 0x7f800000 | (mant << 13));
  return floatOf(sign | ((exp + 112) << 23) | (mant << 13));
}

let fp16Table: Float32Array | undefined;
/** Every half's value, built on first use (256 KiB), so decoding a weight is one lookup per element. */
function fp16Values(): Float32Array {
  if (!fp16Table) {
    fp16Table = new Float32Array(65536);
    for (let h = 0; h < 65536; h++) fp16Table[h] = fp16BitsToFloat(h);
  }
  return fp16Table;
}

/** Int32 elements that hold `size` 16-bit values. */
export const packedLength = (size: number): number => Math.ceil(size / 2);

/**
 * Rounds `values` to `format` and packs them two per int32 (an odd count leaves the last high half 0).
 *
 * @example
 * packWeights16(Float32Array.of(1, -2.5), 'bf16'); // Int32Array [0xc0203f80 | 0]
 */
export function packWeights16(values: Float32Array, format: Half16Format): Int32Array {
  const out = new Int32Array(packedLength(values.length));
  const halves = new Uint16Array(out.buffer);
  const round = format === 'bf16' ? roundToBf16Bits : roundToFp16Bits;
  for (let i = 0; i < values.length; i++) halves[i] = round(values[i]!);
  return out;
}

/**
 * Packs 16-bit patterns as they are (a BF16 or F16 tensor read raw from a checkpoint): no rounding.
 *
 * @example
 * packBits16(Uint16Array.of(0x3f80, 0xc020)); // Int32Array [0xc0203f80 | 0]
 */
export function packBits16(bits: Uint16Array): Int32Array {
  const out = new Int32Array(packedLength(bits.length));
  new Uint16Array(out.buffer).set(bits);
  return out;
}

/**
 * Decodes the first `size` values of `packed` to float32 (exactly: every bf16 and fp16 value is a float32).
 *
 * @example
 * unpackWeights16(packWeights16(Float32Array.of(1, -2.5), 'fp16'), 2, 'fp16'); // Float32Array [1, -2.5]
 */
export function unpackWeights16(packed: Int32Array, size: number, format: Half16Format, out = new Float32Array(size)): Float32Array {
  if (packed.length < packedLength(size)) {
    throw new RangeError(`unpackWeights16: ${packed.length} int32 elements hold ${packed.length * 2} values, not ${size}`);
  }
  return unpackHalves16(new Uint16Array(packed.buffer, packed.byteOffset, size), format, out);
}

/**
 * Decodes 16-bit patterns (a row of a packed weight: `new Uint16Array(packed.buffer)` sliced) into `out`.
 *
 * @example
 * unpackHalves16(Uint16Array.of(0x3f80), 'bf16'); // Float32Array [1]
 */
export function unpackHalves16(halves: Uint16Array, format: Half16Format, out = new Float32Array(halves.length)): Float32Array {
  const size = halves.length;
  if (format === 'bf16') {
    const bits = new Uint32Array(out.buffer, out.byteOffset, size);
    for (let i = 0; i < size; i++) bits[i] = halves[i]! << 16;
  } else {
    const table = fp16Values();
    for (let i = 0; i < size; i++) out[i] = table[halves[i]!]!;
  }
  return out;
}
