// The code tables of bitsandbytes' 4-bit formats and the 8-bit dynamic map of its nested (double)
// quantisation, as float32 values bit-identical to what bitsandbytes builds: NF4/FP4 from
// `get_4bit_type` and the map from `create_dynamic_map` (bitsandbytes/functional.py).

import { MmftError } from '../errors';

const f32 = Math.fround;

/** The two 4-bit data types bitsandbytes writes. */
export type QuantType4 = 'nf4' | 'fp4';

/** The quant types, for schemas and error messages. */
export const QUANT_TYPES_4BIT: readonly QuantType4[] = ['nf4', 'fp4'];

// The normal-float table is hardcoded upstream (create_normal_map(offset=0.9677083) quantiles); these are
// its float64 literals, rounded to float32 exactly as torch.tensor(list) does.
const NF4_VALUES = [
  -1.0, -0.6961928009986877, -0.5250730514526367, -0.39491748809814453, -0.28444138169288635, -0.18477343022823334, -0.09105003625154495,
  0.0, 0.07958029955625534, 0.16093020141124725, 0.24611230194568634, 0.33791524171829224, 0.44070982933044434, 0.5626170039176941,
  0.7229568362236023, 1.0,
];

// FP4 (sign + 2 exponent + 1 mantissa bits) in bit-pattern order, divided by the largest magnitude (12).
// Index 8 is written `-0` upstream, a Python int, so it is +0.0 after torch.tensor: both zeros are +0.
const FP4_VALUES = [0, 0.0625, 8, 12, 4, 6, 2, 3, 0, -0.0625, -8, -12, -4, -6, -2, -3];

/**
 * NF4 code values by 4-bit index (sorted ascending, zero at index 7), float32 as bitsandbytes' `quant_map`.
 *
 * @example
 * NF4_CODE[7]; // 0
 */
export const NF4_CODE: Float32Array = Float32Array.from(NF4_VALUES);

/**
 * FP4 code values by 4-bit index (bit 3 is the sign), float32 as bitsandbytes' `quant_map` (the E2M1 values / 12).
 *
 * @example
 * FP4_CODE[3]; // 1
 */
export const FP4_CODE: Float32Array = Float32Array.from(FP4_VALUES, (v) => f32(v / 12));

/**
 * A fresh copy of the 16-entry code of `quantType`.
 *
 * @example
 * codeOf('nf4')[15]; // 1
 */
export function codeOf(quantType: QuantType4): Float32Array {
  if (quantType === 'nf4') return Float32Array.from(NF4_VALUES);
  if (quantType === 'fp4') return Float32Array.from(FP4_VALUES, (v) => f32(v / 12));
  throw new MmftError('E_CONFIG', `unknown 4-bit quant type ${JSON.stringify(quantType)}; use one of ${QUANT_TYPES_4BIT.join(', ')}`);
}

// torch.linspace on the CPU in float32, as aten/src/ATen/native/cpu/RangeFactoriesKernel.cpp computes it
// (pytorch/pytorch): step = (end − start)/(steps − 1) in float32; the first half counts up from start, the
// second half down from end; runs of 2×8 points go through Vectorized::arange, whose lanes add j·step to the
// run's first point. The kernels are built with FMA, so `start + step·idx` rounds once (a float64 sum here is
// exact, then one float32 rounding). Eight lanes is AVX2 (and NEON's 2×128-bit Vectorized); an AVX-512 build
// (16 lanes) gives a map that differs in a few last bits; docs/qlora.md says why that is harmless.
const LANES = 8;

function linspaceF32(start: number, end: number, steps: number): Float32Array {
  const s = f32(start);
  const e = f32(end);
  const step = f32(f32(e - s) / (steps - 1));
  const halfway = Math.floor(steps / 2);
  const point = (idx: number): number => (idx < halfway ? f32(s + step * idx) : f32(e - step * (steps - idx - 1)));
  const out = new Float32Array(steps);
  let i = 0;
  // two vectors per loop turn (aten/src/ATen/native/cpu/Loops.h vectorized_loop), each from its own first point;
  // the points after the last whole turn take the scalar path
  for (; i + 2 * LANES <= steps; i += 2 * LANES) {
    for (let v = i; v < i + 2 * LANES; v += LANES) {
      const base = point(v);
      for (let j = 0; j < LANES; j++) out[v + j] = j === 0 ? base : f32(base + f32(step * j));
    }
  }
  for (; i < steps; i++) out[i] = point(i);
  return out;
}

// Decimal literals rather than 10 ** k: a pow() result need not be the correctly rounded decimal.
const DECADES = [1e-6, 1e-5, 1e-4, 1e-3, 1e-2, 1e-1, 1];

let dynamic: Float32Array | undefined;

/**
 * The 256-entry signed dynamic map bitsandbytes double quantisation uses for the absmax codes
 * (`create_dynamic_map(signed=True, max_exponent_bits=7, total_bits=8)`), sorted ascending:
 * 127 negatives, 0 at index 127, 127 positives, 1 at index 255. Every float32 operation of the
 * upstream torch code is repeated in float32 here, so the map is bit-identical. Returns a copy.
 *
 * @example
 * dynamicMap()[255]; // 1
 */
export function dynamicMap(): Float32Array {
  if (!dynamic) {
    const data: number[] = [];
    for (let i = 0; i < 7; i++) {
      // signed: 2**i + 1 boundaries give 2**i fraction items per decade.
      const bounds = linspaceF32(0.1, 1, 2 ** i + 1);
      const scale = f32(DECADES[i]);
      for (let j = 0; j + 1 < bounds.length; j++) data.push(f32(scale * f32(f32(bounds[j] + bounds[j + 1]) / 2)));
      for (let j = 0; j + 1 < bounds.length; j++) data.push(f32(-scale * f32(f32(bounds[j] + bounds[j + 1]) / 2)));
    }
    data.push(0, 1);
    data.sort((a, b) => a - b);
    dynamic = Float32Array.from(data);
  }
  return dynamic.slice();
}

/**
 * Bucket boundaries of a code as bitsandbytes' pure-torch path computes them: the float32 midpoints
 * of the sorted code, with `order` mapping a bucket back to its code index (identity for a sorted code;
 * a stable argsort otherwise, which is what torch's CPU argsort returned for FP4's two zeros).
 */
export interface CodeBounds {
  readonly bounds: Float32Array;
  readonly order: Uint8Array;
}

/** Midpoints and order of `code` (bitsandbytes/backends/default/ops.py `_get_4bit_quantize_bounds`). */
export function codeBounds(code: Float32Array): CodeBounds {
  const order = Array.from(code, (_, i) => i).sort((a, b) => code[a] - code[b]);
  const bounds = new Float32Array(code.length - 1);
  for (let i = 0; i + 1 < code.length; i++) bounds[i] = f32(f32(code[order[i]] + code[order[i + 1]]) / 2);
  return { bounds, order: Uint8Array.from(order) };
}

/**
 * torch.bucketize(x, bounds, right=False) for one value: the number of bounds strictly below x, so a
 * value equal to a midpoint goes to the lower bucket.
 */
export function bucketize(x: number, bounds: Float32Array): number {
  let lo = 0;
  let hi = bounds.length;
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    if (bounds[mid] < x) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}
