// Global-norm gradient clipping as torch.nn.utils.clip_grad_norm_ (torch/nn/utils/clip_grad.py):
// total = ‖concat(g)‖₂; every gradient is multiplied by min(1, max_norm / (total + 1e-6)). The
// sum of squares runs as one fused kernel where the active backend registers it (@mmft/backend-tfjs
// does for wasm with its native addon), else as a Square and a Sum per gradient and an AddN.
import * as tf from '@tensorflow/tfjs-core';
import { runFused, SumOfSquares } from '@mmft/core/kernels';

function sumOfSquares(grads: readonly tf.Tensor[]): tf.Tensor {
  const fused = grads.every((g) => g.dtype === 'float32') ? runFused(SumOfSquares, [...grads]) : undefined;
  if (fused) return fused;
  return tf.addN(grads.map((g) => tf.sum(tf.square(g))));
}

/**
 * The global L2 norm of `grads` and the clipped gradients (new tensors; the inputs are kept).
 * `maxNorm` 0 disables clipping. Call inside `tf.tidy`.
 *
 * @example
 * const { totalNorm, clipped } = clipGradNorm(grads, 1.0);
 */
export function clipGradNorm(
  grads: ReadonlyMap<string, tf.Tensor>,
  maxNorm: number,
): { totalNorm: tf.Scalar; clipped: Map<string, tf.Tensor> } {
  const list = [...grads.values()];
  const totalNorm = (list.length ? tf.sqrt(sumOfSquares(list)) : tf.scalar(0)) as tf.Scalar;
  if (maxNorm <= 0) return { totalNorm, clipped: new Map(grads) };
  // torch clamps the coefficient at 1, so gradients under the limit are left exactly as they are.
  const coefficient = tf.minimum(tf.div(maxNorm, tf.add(totalNorm, 1e-6)), 1);
  const clipped = new Map([...grads].map(([name, g]) => [name, tf.mul(g, coefficient)] as const));
  return { totalNorm, clipped };
}
