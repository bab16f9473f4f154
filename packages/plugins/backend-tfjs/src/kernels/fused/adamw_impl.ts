// One AdamW update of one parameter on plain Float32Arrays, step for step as torch.optim.AdamW
// (torch/optim/adamw.py, single-tensor path): p ← p·(1 − lr·wd); m ← β1·m + (1−β1)·g;
// v ← β2·v + (1−β2)·g²; p ← p − (lr / (1−β1ᵗ)) · m / (√v / √(1−β2ᵗ) + eps). Shared by the wasm
// and cpu AdamWUpdate kernels; arithmetic in float64, stored as float32.
import type { AdamWUpdateAttrs } from '@mmft/core/kernels';

/** Writes the new parameter, first and second moments into `pOut`, `mOut`, `vOut` (may alias the inputs). */
export function adamwUpdate(
  p: Float32Array,
  g: Float32Array,
  m: Float32Array,
  v: Float32Array,
  pOut: Float32Array,
  mOut: Float32Array,
  vOut: Float32Array,
  attrs: AdamWUpdateAttrs,
): void {
  const { lr, beta1, beta2, eps, weightDecay, step } = attrs;
  const decay = 1 - lr * weightDecay;
  const stepSize = lr / (1 - beta1 ** step);
  const bias2Sqrt = Math.sqrt(1 - beta2 ** step);
  const [c1, c2] = [1 - beta1, 1 - beta2];
  for (let i = 0; i < p.length; i++) {
    const grad = g[i]!;
    const mi = Math.fround(beta1 * m[i]! + c1 * grad);
    const vi = Math.fround(beta2 * v[i]! + c2 * grad * grad);
    mOut[i] = mi;
    vOut[i] = vi;
    pOut[i] = p[i]! * decay - stepSize * (mi / (Math.sqrt(vi) / bias2Sqrt + eps));
  }
}
