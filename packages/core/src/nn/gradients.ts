// Makes autodiff work: tfjs-core 4.22's CommonJS bundle registers no gradient functions (they
// ship as ES modules only); the @tensorflow/tfjs union package's Node bundle registers all of
// them into the same tfjs-core engine (tfjs-node does exactly this). Called explicitly by the
// backend plugin and the trainer — importing core has no side effect.
import * as tf from '@tensorflow/tfjs-core';

/**
 * Register tfjs's gradient functions once per process; returns true when they are available.
 *
 * @example
 * registerGradients(); const grads = tf.grads((x) => tf.sum(tf.square(x)));
 */
export function registerGradients(): boolean {
  if (!tf.getGradient('RealDiv')) {
    // The union bundle requires '@tensorflow/tfjs-core' (one copy through the pnpm catalog), so
    // its registerGradient calls land in our engine.
    require('@tensorflow/tfjs');
  }
  return tf.getGradient('RealDiv') !== undefined;
}
