// GELU (exact, erf) and CLIP's quick_gelu, forward and backward, on plain Float32Arrays: the math
// shared by the wasm and cpu kernels. erf is the Abramowitz–Stegun 7.1.26 approximation that
// tfjs's own Erf kernels use (tfjs-backend-cpu/src/kernels/Erf.ts), so the fused GELU agrees with
// the composite tf.erf path.

const ERF_P = 0.3275911;
const [A1, A2, A3, A4, A5] = [0.254829592, -0.284496736, 1.421413741, -1.453152027, 1.061405429];
const INV_SQRT_2PI = 1 / Math.sqrt(2 * Math.PI);
/** CLIP's quick_gelu slope: x·σ(1.702·x). */
export const QUICK_GELU_ALPHA = 1.702;

function erf(v: number): number {
  const sign = Math.sign(v);
  const a = Math.abs(v);
  const t = 1 / (1 + ERF_P * a);
  return sign * (1 - ((((A5 * t + A4) * t + A3) * t + A2) * t + A1) * t * Math.exp(-a * a));
}

/** y = x·σ(1.702·x). */
export function quickGeluForward(x: Float32Array, y: Float32Array): void {
  for (let i = 0; i < x.length; i++) {
    const v = x[i]!;
    y[i] = v / (1 + Math.exp(-QUICK_GELU_ALPHA * v));
  }
}

/** dx = dy · (s + 1.702·x·s·(1 − s)), s = σ(1.702·x). */
export function quickGeluBackward(dy: Float32Array, x: Float32Array, dx: Float32Array): void {
  for (let i = 0; i < x.length; i++) {
    const v = x[i]!;
    const s = 1 / (1 + Math.exp(-QUICK_GELU_ALPHA * v));
    dx[i] = dy[i]! * (s + QUICK_GELU_ALPHA * v * s * (1 - s));
  }
}

/** y = x·Φ(x) = 0.5·x·(1 + erf(x/√2)). */
export function geluForward(x: Float32Array, y: Float32Array): void {
  for (let i = 0; i < x.length; i++) {
    const v = x[i]!;
    y[i] = 0.5 * v * (1 + erf(v * Math.SQRT1_2));
  }
}

/** dx = dy · (Φ(x) + x·φ(x)). */
export function geluBackward(dy: Float32Array, x: Float32Array, dx: Float32Array): void {
  for (let i = 0; i < x.length; i++) {
    const v = x[i]!;
    const cdf = 0.5 * (1 + erf(v * Math.SQRT1_2));
    dx[i] = dy[i]! * (cdf + v * INV_SQRT_2PI * Math.exp(-0.5 * v * v));
  }
}
