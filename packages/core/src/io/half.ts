// Bit-exact conversions between IEEE half (F16), bfloat16 (BF16) and float32, working on bit
// patterns so NaN payloads, signed zeros and subnormals survive a round trip. Rounding is to
// nearest-even, as numpy's float16 cast and torch's .to(torch.bfloat16) do.

let halfTable: Uint32Array | undefined;
const scratch = new Float32Array(1);
const scratchBits = new Uint32Array(scratch.buffer);

function halfToFloatBits(h: number): number {
  const sign = (h & 0x8000) << 16;
  const exponent = (h >>> 10) & 0x1f;
  const mantissa = h & 0x3ff;
  if (exponent === 0) {
    // Zero or subnormal: mantissa·2⁻²⁴ is exact in float32, so let the FPU build the bits.
    scratch[0] = (sign ? -1 : 1) * mantissa * 2 ** -24;
    return scratchBits[0];
  }
  if (exponent === 31) return (sign | 0x7f800000 | (mantissa << 13)) >>> 0; // inf / NaN, payload kept
  return (sign | ((exponent + 112) << 23) | (mantissa << 13)) >>> 0; // rebias 15 → 127
}

/**
 * F16 bit patterns → float32 values (exact).
 *
 * @example
 * f16ToF32(new Uint16Array([0x3c00, 0x7bff]))[1]; // 65504
 */
export function f16ToF32(bits: Uint16Array): Float32Array {
  if (!halfTable) {
    // 256 KiB once beats per-element branching on multi-gigabyte checkpoints.
    halfTable = new Uint32Array(65536);
    for (let h = 0; h < 65536; h++) halfTable[h] = halfToFloatBits(h);
  }
  const out = new Float32Array(bits.length);
  const outBits = new Uint32Array(out.buffer);
  for (let i = 0; i < bits.length; i++) outBits[i] = halfTable[bits[i]];
  return out;
}

/** BF16 bit patterns → float32 values (exact: bf16 is the top half of a float32). */
export function bf16ToF32(bits: Uint16Array): Float32Array {
  const out = new Float32Array(bits.length);
  const outBits = new Uint32Array(out.buffer);
  for (let i = 0; i < bits.length; i++) outBits[i] = bits[i] << 16;
  return out;
}

function floatBitsToHalf(x: number): number {
  const sign = (x >>> 16) & 0x8000;
  const exponent = (x >>> 23) & 0xff;
  const mantissa = x & 0x7fffff;
  if (exponent === 0xff) return sign | 0x7c00 | (mantissa ? mantissa >>> 13 || 0x200 : 0); // NaN stays NaN
  const e = exponent - 112;
  if (e >= 31) return sign | 0x7c00; // too large: ±inf
  if (e <= 0) {
    if (e < -10) return sign; // below half the smallest subnormal: ±0
    const m = mantissa | 0x800000;
    const shift = 14 - e;
    let half = m >>> shift;
    const rest = m & ((1 << shift) - 1);
    const halfway = 1 << (shift - 1);
    if (rest > halfway || (rest === halfway && half & 1)) half += 1;
    return sign | half;
  }
  let half = (e << 10) | (mantissa >>> 13);
  const rest = mantissa & 0x1fff;
  // A carry out of the mantissa correctly bumps the exponent (up to inf).
  if (rest > 0x1000 || (rest === 0x1000 && half & 1)) half += 1;
  return sign | half;
}

/** float32 values → F16 bit patterns, round to nearest even; overflow gives ±inf. */
export function f32ToF16(values: Float32Array): Uint16Array {
  const bits = new Uint32Array(values.buffer, values.byteOffset, values.length);
  const out = new Uint16Array(values.length);
  for (let i = 0; i < values.length; i++) out[i] = floatBitsToHalf(bits[i]);
  return out;
}

/** float32 values → BF16 bit patterns, round to nearest even; NaN stays NaN. */
export function f32ToBf16(values: Float32Array): Uint16Array {
  const bits = new Uint32Array(values.buffer, values.byteOffset, values.length);
  const out = new Uint16Array(values.length);
  for (let i = 0; i < values.length; i++) {
    const x = bits[i];
    const top = x >>> 16;
    if ((x & 0x7f800000) === 0x7f800000 && x & 0x7fffff) {
      // Keep the payload when it survives truncation, else set the quiet bit.
      out[i] = top & 0x7f ? top : top | 0x40;
    } else {
      out[i] = (x + 0x7fff + (top & 1)) >>> 16;
    }
  }
  return out;
}
