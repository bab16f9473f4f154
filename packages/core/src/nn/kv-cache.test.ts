import '@tensorflow/tfjs-backend-cpu';
import { beforeAll, describe, expect, test } from '@jest/globals';
import * as tf from '@tensorflow/tfjs-core';
import { DynamicCache } from './kv-cache';

beforeAll(async () => {
  await tf.setBackend('cpu');
});

const kv = (b: number, t: number, start: number) =>
  tf.tensor4d(
    Array.from({ length: b * 2 * t * 3 }, (_, i) => start + i),
    [b, 2, t, 3],
  );

describe('DynamicCache', () => {
  test('grows along the sequence, keeps its tensors past tf.tidy and frees what it replaced', () => {
    const cache = new DynamicCache();
    const before = tf.memory().numTensors;
    tf.tidy(() => {
      cache.update(0, kv(1, 2, 0), kv(1, 2, 100));
      cache.update(1, kv(1, 2, 0), kv(1, 2, 100));
    });
    expect(cache.length).toBe(2);
    expect(cache.numLayers).toBe(2);
    expect(tf.memory().numTensors - before).toBe(4);
    const out = tf.tidy(() => {
      const { key } = cache.update(0, kv(1, 1, 50), kv(1, 1, 150));
      return key.arraySync() as number[][][][];
    });
    expect(out[0]![0]!.map((row) => row[0])).toEqual([0, 3, 50]);
    expect(tf.memory().numTensors - before).toBe(4);
    cache.dispose();
    expect(tf.memory().numTensors).toBe(before);
  });

  test('reorder keeps rows in the given order (repeats allowed); crop drops positions', () => {
    const cache = new DynamicCache();
    tf.tidy(() => cache.update(0, kv(2, 3, 0), kv(2, 3, 0)));
    cache.reorder([1, 1, 0]);
    const { key } = tf.tidy(() => cache.update(0, tf.zeros([3, 2, 1, 3]), tf.zeros([3, 2, 1, 3])));
    const rows = key.arraySync() as number[][][][];
    expect(rows.map((r) => r[0]![0]![0])).toEqual([18, 18, 0]);
    cache.crop(2);
    expect(cache.length).toBe(2);
    expect(() => cache.reorder([5])).toThrow(/outside a batch of 3/);
    cache.dispose();
  });

  test('a layer skipped or keys of another shape are clear errors', () => {
    const cache = new DynamicCache();
    expect(() => tf.tidy(() => cache.update(1, kv(1, 1, 0), kv(1, 1, 0)))).toThrow(/layer 1 before layer 0/);
    tf.tidy(() => cache.update(0, kv(1, 1, 0), kv(1, 1, 0)));
    expect(() => tf.tidy(() => cache.update(0, tf.zeros([1, 3, 1, 3]), tf.zeros([1, 3, 1, 3])))).toThrow(/cannot take new keys/);
    cache.dispose();
  });
});
