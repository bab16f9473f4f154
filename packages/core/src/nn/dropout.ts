// Dropout that is the identity in eval mode (or with p = 0) and scales kept values by 1/(1-p)
// in training, as torch/nn/modules/dropout.py. A seeded Dropout draws a fresh but reproducible
// mask on every call: the k-th call of a run always uses the same mask.

import * as tf from '@tensorflow/tfjs-core';
import { assertThat } from '../errors';
import { deriveSeed } from './init';
import { Module } from './module';

/** Options of `Dropout`. */
export interface DropoutOptions {
  /** Makes the sequence of masks reproducible across runs. */
  seed?: number;
}

/**
 * Zeroes each element with probability `p` while training; when inactive it returns its input
 * itself (not a copy), as torch.nn.functional.dropout does.
 *
 * @example
 * const drop = new Dropout(0.1, { seed: 7 });
 * const y = drop.forward(x); // identity after model.eval()
 */
export class Dropout extends Module<[tf.Tensor], tf.Tensor> {
  private calls = 0;
  // Without a seed the masks are still a function of (base, call count), the base drawn once, so
  // that gradient checkpointing can replay a mask by rewinding the count (as torch's
  // preserve_rng_state restores the generator in torch/utils/checkpoint.py).
  private readonly unseededBase = Math.floor(Math.random() * 0x7fffffff);

  /** How many masks this Dropout has drawn; gradient checkpointing (checkpoint.ts) rewinds it to replay a mask. */
  get drawnMasks(): number {
    return this.calls;
  }

  set drawnMasks(count: number) {
    assertThat(Number.isInteger(count) && count >= 0, 'E_CONFIG', () => `Dropout.drawnMasks must be a count ≥ 0, got ${count}`);
    this.calls = count;
  }

  constructor(
    readonly p: number,
    private readonly options: DropoutOptions = {},
  ) {
    super();
    assertThat(p >= 0 && p < 1, 'E_CONFIG', () => `Dropout probability must be in [0, 1), got ${p}`);
  }

  forward(x: tf.Tensor): tf.Tensor {
    if (!this.training || this.p === 0) return x;
    for (const seen of dropoutWatchers) if (!seen.has(this)) seen.set(this, this.calls);
    this.calls += 1;
    // A constant seed would drop the same units on every step; vary it per call instead.
    const seed = deriveSeed(this.options.seed ?? this.unseededBase, String(this.calls));
    return tf.tidy(() => tf.dropout(x, this.p, undefined, seed));
  }
}

const dropoutWatchers: Array<Map<Dropout, number>> = [];

/**
 * Runs `fn` and returns, for every Dropout that drew a mask inside it, its mask count before its
 * first draw, so that a recomputation can rewind to it and draw the same masks (checkpoint.ts).
 */
export function watchDropouts<T>(fn: () => T): { result: T; before: Map<Dropout, number> } {
  const before = new Map<Dropout, number>();
  dropoutWatchers.push(before);
  try {
    return { result: fn(), before };
  } finally {
    dropoutWatchers.splice(dropoutWatchers.lastIndexOf(before), 1);
  }
}
