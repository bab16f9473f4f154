// Repeating a tensor shared by the whole batch ([1, ...] → [batch, ...]), as prefix and prompt
// tuning do with their learned tokens. tf.tile would do it, but tfjs's Tile gradient
// (tfjs-core/src/gradients/Tile_grad.ts) adds one slice of dy per copy — for a batch of 32, 32
// Slice and 32 Add kernels per call in the backward pass. Adding zeros [batch, 1, ...] broadcasts
// the same values, and Add's gradient sums dy over the batch axis in one Sum.

import * as tf from '@tensorflow/tfjs-core';
import { assertThat } from '../errors';

/**
 * `x` [1, ...rest] repeated to [batch, ...rest] (values unchanged; the gradient sums over the batch).
 *
 * @example
 * const prefix = repeatBatch(key, 32); // [1, H, P, d] → [32, H, P, d]
 */
export function repeatBatch(x: tf.Tensor, batch: number): tf.Tensor {
  assertThat(
    x.rank >= 1 && x.shape[0] === 1 && Number.isInteger(batch) && batch >= 1,
    'E_SHAPE',
    () => `repeatBatch needs a [1, ...] tensor and a positive batch, got [${x.shape.join(', ')}] and ${batch}`,
  );
  if (batch === 1) return tf.clone(x);
  return tf.tidy(() => tf.add(x, tf.zeros([batch, ...x.shape.slice(1).map(() => 1)], x.dtype)));
}
