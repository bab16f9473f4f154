import { describe, expect, test } from '@jest/globals';
import { visitOrder } from './order';

const order = (size: number, options: Parameters<typeof visitOrder>[1]) => [...visitOrder(size, options)];

describe('visitOrder', () => {
  test('unshuffled is the file order', () => {
    expect(order(5, {})).toEqual([0, 1, 2, 3, 4]);
  });

  test('the same seed and epoch replay the same permutation; another seed or epoch differs', () => {
    const a = order(100, { shuffle: true, seed: 7, epoch: 0 });
    expect(order(100, { shuffle: true, seed: 7, epoch: 0 })).toEqual(a);
    expect([...a].sort((x, y) => x - y)).toEqual(order(100, {}));
    expect(a).not.toEqual(order(100, {}));
    expect(order(100, { shuffle: true, seed: 8, epoch: 0 })).not.toEqual(a);
    expect(order(100, { shuffle: true, seed: 7, epoch: 1 })).not.toEqual(a);
  });

  test('shards are disjoint and together cover the epoch', () => {
    const options = { shuffle: true, seed: 3 };
    const shards = [0, 1, 2].map((index) => order(10, { ...options, shard: { index, count: 3 } }));
    expect(shards.map((s) => s.length)).toEqual([4, 3, 3]);
    expect(shards.flat().sort((x, y) => x - y)).toEqual(order(10, {}));
  });

  test('startAt resumes the sharded order where it stopped', () => {
    const options = { shuffle: true, seed: 3, shard: { index: 1, count: 2 } };
    expect(order(20, { ...options, startAt: 4 })).toEqual(order(20, options).slice(4));
  });

  test('bad shards are refused', () => {
    expect(() => order(10, { shard: { index: 2, count: 2 } })).toThrow('shard index 2 of 2 is invalid');
  });
});
