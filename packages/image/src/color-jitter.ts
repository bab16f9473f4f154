// Colour jitter on float RGB pixels in [0, 1] (HWC), with torchvision's formulas
// (transforms/_functional_tensor.py: adjust_brightness/contrast/saturation blend with black,
// the mean grey level and the per-pixel grey; adjust_hue shifts H in HSV space).
import type { SeededRng } from './rng';

export type JitterOp = { readonly op: 'brightness' | 'contrast' | 'saturation' | 'hue'; readonly factor: number };

const clamp01 = (x: number): number => (x < 0 ? 0 : x > 1 ? 1 : x);
const grey = (r: number, g: number, b: number): number => 0.2989 * r + 0.587 * g + 0.114 * b;

/** Draw the ops and their factors in torchvision's way: a random order, zero-strength ops skipped. */
export function sampleJitter(
  rng: SeededRng,
  jitter: { brightness: number; contrast: number; saturation: number; hue: number },
): JitterOp[] {
  const order = rng.shuffle(['brightness', 'contrast', 'saturation', 'hue'] as const);
  const ops: JitterOp[] = [];
  for (const op of order) {
    const strength = jitter[op];
    if (strength <= 0) continue;
    ops.push({ op, factor: op === 'hue' ? rng.uniform(-strength, strength) : rng.uniform(Math.max(0, 1 - strength), 1 + strength) });
  }
  return ops;
}

function hueShift(px: Float32Array, i: number, shift: number): void {
  const r = px[i] as number,
    g = px[i + 1] as number,
    b = px[i + 2] as number;
  const max = Math.max(r, g, b),
    min = Math.min(r, g, b),
    delta = max - min;
  if (delta === 0) return; // grey: no hue to shift
  let h = max === r ? ((g - b) / delta) % 6 : max === g ? (b - r) / delta + 2 : (r - g) / delta + 4;
  h = (((h / 6 + shift) % 1) + 1) % 1;
  const s = delta / max,
    v = max,
    sector = h * 6,
    k = Math.floor(sector),
    f = sector - k;
  const p = v * (1 - s),
    q = v * (1 - s * f),
    t = v * (1 - s * (1 - f));
  const rgb = [
    [v, t, p],
    [q, v, p],
    [p, v, t],
    [p, q, v],
    [t, p, v],
    [v, p, q],
  ][k % 6] as number[];
  px[i] = rgb[0] as number;
  px[i + 1] = rgb[1] as number;
  px[i + 2] = rgb[2] as number;
}

/** Apply the ops in place to RGB floats (HWC, [0, 1]). */
export function applyJitter(px: Float32Array, ops: readonly JitterOp[]): void {
  for (const { op, factor } of ops) {
    if (op === 'contrast') {
      let sum = 0;
      for (let i = 0; i < px.length; i += 3) sum += grey(px[i] as number, px[i + 1] as number, px[i + 2] as number);
      const mean = sum / (px.length / 3);
      for (let i = 0; i < px.length; i++) px[i] = clamp01(factor * (px[i] as number) + (1 - factor) * mean);
    } else if (op === 'brightness') {
      for (let i = 0; i < px.length; i++) px[i] = clamp01(factor * (px[i] as number));
    } else if (op === 'saturation') {
      for (let i = 0; i < px.length; i += 3) {
        const y = (1 - factor) * grey(px[i] as number, px[i + 1] as number, px[i + 2] as number);
        for (let c = 0; c < 3; c++) px[i + c] = clamp01(factor * (px[i + c] as number) + y);
      }
    } else {
      for (let i = 0; i < px.length; i += 3) hueShift(px, i, factor);
    }
  }
}
