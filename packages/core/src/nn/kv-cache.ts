// transformers' DynamicCache (cache_utils.py): per layer, the keys and values of every position
// seen so far, grown by concatenation along the sequence axis on each forward. Generation makes one
// per call and passes it to every forward; beam search reorders its batch rows.
import * as tf from '@tensorflow/tfjs-core';
import type { KeyValueCache } from '../contracts/model';
import { assertThat } from '../errors';

const shapeOf = (t: tf.Tensor): string => `[${t.shape.join(', ')}]`;

/**
 * Keys and values [B, Hkv, S, headDim] per layer. The cache owns its tensors: they survive the
 * tf.tidy of the forward that made them and go with `dispose()` (or when replaced).
 *
 * @example
 * const cache = new DynamicCache();
 * model.forward({ inputIds: prompt, attentionMask, pastKeyValues: cache }); // fills it
 * model.forward({ inputIds: next, attentionMask: longerMask, pastKeyValues: cache }); // one position more
 * cache.dispose();
 */
export class DynamicCache implements KeyValueCache {
  private readonly keys: tf.Tensor[] = [];
  private readonly values: tf.Tensor[] = [];

  get length(): number {
    return this.keys[0]?.shape[2] ?? 0;
  }

  get numLayers(): number {
    return this.keys.length;
  }

  update(layer: number, key: tf.Tensor, value: tf.Tensor): { key: tf.Tensor; value: tf.Tensor } {
    assertThat(
      key.rank === 4 && value.rank === 4 && key.shape[2] === value.shape[2] && key.shape[0] === value.shape[0],
      'E_SHAPE',
      () => `cache update: keys and values must be [B, Hkv, T, headDim] alike, got ${shapeOf(key)} and ${shapeOf(value)}`,
    );
    assertThat(
      layer >= 0 && layer <= this.keys.length,
      'E_SHAPE',
      () => `cache update: layer ${layer} before layer ${this.keys.length} was filled`,
    );
    const oldKey = this.keys[layer];
    const oldValue = this.values[layer];
    if (oldKey && oldValue) {
      assertThat(
        oldKey.shape[0] === key.shape[0] && oldKey.shape[1] === key.shape[1] && oldKey.shape[3] === key.shape[3],
        'E_SHAPE',
        () => `cache update of layer ${layer}: cached keys ${shapeOf(oldKey)} cannot take new keys ${shapeOf(key)}`,
      );
    }
    const nextKey = tf.keep(oldKey ? tf.concat([oldKey, key], 2) : key.clone());
    const nextValue = tf.keep(oldValue ? tf.concat([oldValue, value], 2) : value.clone());
    oldKey?.dispose();
    oldValue?.dispose();
    this.keys[layer] = nextKey;
    this.values[layer] = nextValue;
    return { key: nextKey, value: nextValue };
  }

  reorder(rows: readonly number[]): void {
    const index = tf.tensor1d([...rows], 'int32');
    try {
      for (const list of [this.keys, this.values]) {
        list.forEach((t, i) => {
          assertThat(
            rows.every((r) => Number.isInteger(r) && r >= 0 && r < t.shape[0]!),
            'E_SHAPE',
            () => `cache reorder: rows ${JSON.stringify(rows)} outside a batch of ${t.shape[0]}`,
          );
          list[i] = tf.keep(tf.gather(t, index, 0));
          t.dispose();
        });
      }
    } finally {
      index.dispose();
    }
  }

  crop(length: number): void {
    if (length >= this.length) return;
    for (const list of [this.keys, this.values]) {
      list.forEach((t, i) => {
        list[i] = tf.keep(tf.slice(t, [0, 0, 0, 0], [-1, -1, Math.max(0, length), -1]));
        t.dispose();
      });
    }
  }

  dispose(): void {
    for (const t of [...this.keys, ...this.values]) if (!t.isDisposed) t.dispose();
    this.keys.length = 0;
    this.values.length = 0;
  }
}
