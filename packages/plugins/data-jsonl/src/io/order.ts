// The visiting order of one epoch: identity or a seeded Fisher–Yates permutation (pure-rand's
// xoroshiro128+, jumped once per epoch so epochs differ yet replay exactly), then the shard's
// strided slice and the resume offset. Memory: 4 bytes per example for the permutation.
import { uniformInt } from 'pure-rand/distribution/uniformInt';
import { xoroshiro128plus } from 'pure-rand/generator/xoroshiro128plus';
import { MmftError, type IterateOptions } from '@mmft/core';

/**
 * Positions (0-based record numbers) to visit for `options`, in order.
 *
 * @example
 * [...visitOrder(10, { shuffle: true, seed: 1, shard: { index: 0, count: 2 } })] // 5 positions
 */
export function* visitOrder(size: number, options: IterateOptions = {}): Generator<number> {
  const { index, count } = options.shard ?? { index: 0, count: 1 };
  if (!Number.isInteger(count) || count < 1 || !Number.isInteger(index) || index < 0 || index >= count) {
    throw new MmftError('E_CONFIG', `shard index ${index} of ${count} is invalid: need integers with 0 <= index < count`);
  }
  const startAt = options.startAt ?? 0;
  if (!Number.isInteger(startAt) || startAt < 0) {
    throw new MmftError('E_CONFIG', `startAt must be a non-negative integer, got ${startAt}`);
  }
  const permutation = options.shuffle ? shuffledPositions(size, options.seed ?? 0, options.epoch ?? 0) : undefined;
  // Shard i takes every count-th position of the epoch order, so shards differ and cover all.
  for (let k = index + startAt * count; k < size; k += count) yield permutation ? permutation[k]! : k;
}

/** A seeded permutation of 0..size-1; the same (seed, epoch) always gives the same one. */
export function shuffledPositions(size: number, seed: number, epoch: number): Uint32Array {
  const rng = xoroshiro128plus(seed | 0);
  for (let e = 0; e < epoch; e += 1) rng.jump();
  const order = new Uint32Array(size);
  for (let i = 0; i < size; i += 1) order[i] = i;
  for (let i = size - 1; i > 0; i -= 1) {
    const j = uniformInt(rng, 0, i);
    const t = order[i]!;
    order[i] = order[j]!;
    order[j] = t;
  }
  return order;
}
