// LayerNorm over the last axis, forward and backward, on plain Float32Arrays: the math shared by
// the wasm and cpu kernels (as tfjs-backend-cpu's *_impl.ts files are shared with other backends).
// Follows torch/nn/modules/normalization.py: biased variance, eps inside the square root. Row
// statistics accumulate in float64; the backward pass recomputes them instead of saving them.

/** Mean and 1/√(var + eps) of row `r` (length `d`) of `x`. */
function rowStats(x: Float32Array, start: number, d: number, eps: number): [number, number] {
  let sum = 0;
  for (let i = start; i < start + d; i++) sum += x[i]!;
  const mean = sum / d;
  let sq = 0;
  for (let i = start; i < start + d; i++) {
    const c = x[i]! - mean;
    sq += c * c;
  }
  return [mean, 1 / Math.sqrt(sq / d + eps)];
}

/** y = (x − mean) / √(var + eps) · gamma + beta, row by row; `x` is rows × d. */
export function layerNormForward(x: Float32Array, gamma: Float32Array, beta: Float32Array, y: Float32Array, d: number, eps: number): void {
  for (let start = 0; start < x.length; start += d) {
    const [mean, rstd] = rowStats(x, start, d, eps);
    for (let i = 0; i < d; i++) y[start + i] = (x[start + i]! - mean) * rstd * gamma[i]! + beta[i]!;
  }
}

/**
 * Gradients of layerNormForward for upstream `dy`: dx (rows × d), dgamma and dbeta (d).
 * dx = rstd · (ĝ − mean(ĝ) − x̂ · mean(ĝ · x̂)) with ĝ = dy · gamma, x̂ the normalised row.
 */
export function layerNormBackward(
  dy: Float32Array,
  x: Float32Array,
  gamma: Float32Array,
  eps: number,
  d: number,
  dx: Float32Array,
  dgamma: Float32Array,
  dbeta: Float32Array,
): void {
  const accGamma = new Float64Array(d);
  const accBeta = new Float64Array(d);
  for (let start = 0; start < x.length; start += d) {
    const [mean, rstd] = rowStats(x, start, d, eps);
    let sumG = 0;
    let sumGX = 0;
    for (let i = 0; i < d; i++) {
      const g = dy[start + i]!;
      const xhat = (x[start + i]! - mean) * rstd;
      const ghat = g * gamma[i]!;
      sumG += ghat;
      sumGX += ghat * xhat;
      accGamma[i]! += g * xhat;
      accBeta[i]! += g;
    }
    const meanG = sumG / d;
    const meanGX = sumGX / d;
    for (let i = 0; i < d; i++) {
      const xhat = (x[start + i]! - mean) * rstd;
      dx[start + i] = rstd * (dy[start + i]! * gamma[i]! - meanG - xhat * meanGX);
    }
  }
  dgamma.set(accGamma);
  dbeta.set(accBeta);
}
