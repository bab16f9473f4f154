// Parameter initialisers with PyTorch's defaults (torch/nn/init.py and the reset_parameters()
// of torch/nn/modules/{linear,conv,sparse,normalization}.py), each taking an optional seed so
// that a model built twice with the same seed has bit-identical weights.

import * as tf from '@tensorflow/tfjs-core';

/** Makes the initial value of a parameter; the caller owns (and disposes) the result. */
export type Initializer = (shape: readonly number[], seed?: number) => tf.Tensor;

/** All zeros (LayerNorm bias). */
export const zeros: Initializer = (shape) => tf.zeros([...shape]);

/** All ones (LayerNorm weight). */
export const ones: Initializer = (shape) => tf.ones([...shape]);

/**
 * U(-bound, bound).
 *
 * @example
 * const w = uniform(0.1)([4, 3], 42);
 */
export function uniform(bound: number): Initializer {
  return (shape, seed) => tf.randomUniform([...shape], -bound, bound, 'float32', seed);
}

/** N(mean, std²); `normal()` is torch.nn.Embedding's default N(0, 1). */
export function normal(std = 1, mean = 0): Initializer {
  return (shape, seed) => tf.randomNormal([...shape], mean, std, 'float32', seed);
}

/**
 * PyTorch's default for Linear/Conv weights and biases: kaiming_uniform_(a=√5), whose bound
 * works out to 1/√fanIn (gain √(2/(1+5)) times √3/√fanIn).
 *
 * @example
 * const init = fanInUniform(768); // U(-1/√768, 1/√768)
 */
export function fanInUniform(fanIn: number): Initializer {
  return uniform(fanIn > 0 ? 1 / Math.sqrt(fanIn) : 0);
}

/**
 * A child seed from a parent seed and a name, so each parameter of a seeded model gets its
 * own stream; `undefined` stays `undefined` (unseeded). FNV-1a keeps it stable across runs.
 *
 * @example
 * new Linear(8, 8, { seed: deriveSeed(seed, 'q_proj') });
 */
export function deriveSeed(seed: number | undefined, salt: string): number | undefined {
  if (seed === undefined) return undefined;
  let hash = 0x811c9dc5;
  for (const ch of `${seed}:${salt}`) {
    hash ^= ch.codePointAt(0)!;
    hash = Math.imul(hash, 0x01000193) >>> 0;
  }
  return hash;
}
