// The random initialisation of a fresh GPT-2, as GPT2PreTrainedModel._init_weights in
// transformers/models/gpt2/modeling_gpt2.py: N(0, initializer_range) for every Conv1D, Linear and
// Embedding weight, zero biases, LayerNorm ones/zeros, and the GPT-2 paper's residual scaling
// std = initializer_range / sqrt(2 · n_layer) for every `c_proj.weight`. Each tensor's seed is
// derived from its name, so a seeded model is identical on every run.
import * as tf from '@tensorflow/tfjs-core';
import { deriveSeed, type Module } from '@mmft/core/nn';
import type { Gpt2Config } from '../config';

/** The init of one parameter: a normal std or a constant. */
export function gpt2InitRule(name: string, config: Gpt2Config): { std: number } | { fill: number } {
  if (/(^|\.)ln_(1|2|f)\.weight$/.test(name)) return { fill: 1 };
  if (name.endsWith('.bias')) return { fill: 0 };
  if (name.endsWith('c_proj.weight')) return { std: config.initializer_range / Math.sqrt(2 * config.n_layer) };
  return { std: config.initializer_range };
}

/**
 * Re-initialises every parameter of `root` as HF does for a new GPT2LMHeadModel.
 *
 * @example
 * const root = new Gpt2LMHeadRoot(config);
 * initGpt2Weights(root, config, 42);
 */
export function initGpt2Weights(root: Module, config: Gpt2Config, seed?: number): void {
  for (const [name, variable] of root.namedParameters()) {
    const rule = gpt2InitRule(name, config);
    tf.tidy(() => {
      variable.assign(
        'fill' in rule
          ? tf.fill(variable.shape, rule.fill)
          : tf.randomNormal(variable.shape, 0, rule.std, 'float32', deriveSeed(seed, name)),
      );
    });
  }
}
