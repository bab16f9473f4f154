import { describe, expect, test } from '@jest/globals';
import { isMmftError, parseConfig, type Dataset, type IterateOptions } from '@mmft/core';
import { collect, fakeContext, fakeOrder, opened } from './fake-sources.test-helper';
import { mixProvider } from './plugin';

type Source = { type: string; task?: string; n?: number; prefix?: string };

async function mix(sources: Source[], extra: Record<string, unknown> = {}): Promise<Dataset> {
  return mixProvider.open(parseConfig(mixProvider, { sources, ...extra }), fakeContext());
}
const ids = async (dataset: Dataset, options?: IterateOptions) => (await collect(dataset, options)).map((e) => e.id);
const range = (prefix: string, n: number) => Array.from({ length: n }, (_, k) => `${prefix}${k}`);

describe('mixed dataset: order of each strategy', () => {
  test('concat without shuffle: the sources one after another; size is the sum', async () => {
    const data = await mix([
      { type: 'fake', n: 2, prefix: 'a' },
      { type: 'fake', n: 3, prefix: 'b' },
    ]);
    expect(data.size).toBe(5);
    expect(await ids(data)).toEqual(['a0', 'a1', 'b0', 'b1', 'b2']);
  });

  test('interleave without probabilities: turns, min rounds (under) or max rounds with repeats marked #pass (over)', async () => {
    const sources = [
      { type: 'fake', n: 2, prefix: 'a' },
      { type: 'fake', n: 3, prefix: 'b' },
    ];
    const under = await mix(sources, { strategy: 'interleave_under' });
    expect(under.size).toBe(4);
    expect(await ids(under)).toEqual(['a0', 'b0', 'a1', 'b1']);
    const over = await mix(sources, { strategy: 'interleave_over' });
    expect(over.size).toBe(6);
    expect(await ids(over)).toEqual(['a0', 'b0', 'a1', 'b1', 'a0#1', 'b2']);
  });

  test('interleave with probabilities: every source read in its own order, counts as the plan says', async () => {
    const data = await mix(
      [
        { type: 'fake', n: 5, prefix: 'a' },
        { type: 'fake', n: 50, prefix: 'b' },
      ],
      { strategy: 'interleave_under', probabilities: [0.5, 0.5], seed: 1 },
    );
    const got = await ids(data);
    expect(got.length).toBe(data.size);
    const a = got.filter((id) => id.startsWith('a'));
    expect(a).toEqual(range('a', 5)); // under: stops as soon as "a" runs out
    expect(got[got.length - 1]).toBe('a4');
    const b = got.filter((id) => id.startsWith('b'));
    expect(b).toEqual(range('b', b.length));
  });

  test('a source without a declared size is counted by reading it; the mix size is then unknown up front', async () => {
    const data = await mix([
      { type: 'fake', n: 2, prefix: 'a' },
      { type: 'stream', n: 2, prefix: 'b' },
    ]);
    expect(data.size).toBeUndefined();
    expect(await ids(data)).toEqual(['a0', 'a1', 'b0', 'b1']);
  });

  test("task: the sources' task when they agree, else the first source's; examples keep their own", async () => {
    expect(
      (
        await mix([
          { type: 'fake', task: 'vqa' },
          { type: 'fake', task: 'vqa', prefix: 'y' },
        ])
      ).task,
    ).toBe('vqa');
    expect((await mix([{ type: 'fake', task: 'vqa' }])).tasks).toBeUndefined();
    const mixed = await mix([
      { type: 'fake', task: 'vqa', n: 1 },
      { type: 'fake', task: 'instruction', n: 1, prefix: 'y' },
    ]);
    expect(mixed.task).toBe('vqa');
    expect(mixed.tasks).toEqual(['vqa', 'instruction']);
    expect((await collect(mixed)).map((e) => e.task)).toEqual(['vqa', 'instruction']);
  });

  test('ids two sources share get the source index in front; the others stay as they are', async () => {
    const data = await mix([
      { type: 'fake', n: 2, prefix: 'x' },
      { type: 'fake', n: 3, prefix: 'x' },
      { type: 'fake', n: 1, prefix: 'z' },
    ]);
    expect(await ids(data)).toEqual(['0:x0', '0:x1', '1:x0', '1:x1', 'x2', 'z0']);
  });
});

describe('mixed dataset: shuffle, shard, startAt', () => {
  const sources = [
    { type: 'fake', n: 3, prefix: 'a' },
    { type: 'fake', n: 4, prefix: 'b' },
    { type: 'fake', n: 2, prefix: 'c' },
  ];

  test('concat with shuffle: every example once; each source keeps its own shuffled order', async () => {
    const data = await mix(sources);
    const first = opened.length;
    const got = await ids(data, { shuffle: true, seed: 4, epoch: 1 });
    expect([...got].sort()).toEqual([...range('a', 3), ...range('b', 4), ...range('c', 2)].sort());
    // The sources were asked for shuffled streams (after the one plain reading that counts them).
    const calls = opened.slice(first - 3).flatMap((o) => o.calls.filter((c) => c.shuffle));
    expect(calls.length).toBe(3);
    for (const [i, prefix] of ['a', 'b', 'c'].entries()) {
      const call = opened[first - 3 + i]!.calls.find((c) => c.shuffle)!;
      const n = [3, 4, 2][i]!;
      expect(got.filter((id) => id.startsWith(prefix))).toEqual(fakeOrder(n, call).map((k) => `${prefix}${k}`));
    }
  });

  test('concat with shuffle mixes the sources: each position holds each source as often as its share', async () => {
    const data = await mix([
      { type: 'fake', n: 1, prefix: 'a' },
      { type: 'fake', n: 3, prefix: 'b' },
    ]);
    // Where "a0" lands over 400 seeds: uniform over the 4 positions (a global shuffle).
    const where = [0, 0, 0, 0];
    for (let seed = 0; seed < 400; seed++) where[(await ids(data, { shuffle: true, seed })).indexOf('a0')]! += 1;
    for (const count of where) expect(Math.abs(count - 100)).toBeLessThan(4 * Math.sqrt(400 * 0.25 * 0.75));
  });

  test('deterministic for the same options; the seed and the epoch change the order', async () => {
    const data = await mix(sources, { strategy: 'interleave_over' });
    const options = { shuffle: true, seed: 2, epoch: 3 };
    const a = await ids(data, options);
    expect(await ids(await mix(sources, { strategy: 'interleave_over' }), options)).toEqual(a);
    expect(await ids(data, { ...options, seed: 9 })).not.toEqual(a);
    expect(await ids(data, { ...options, epoch: 4 })).not.toEqual(a);
    // Shuffling changes the order only: the partial repeat of "a" and "c" is the start of their
    // unshuffled order in every epoch (as the Trainer shuffles the list interleave_datasets made).
    const plain = await ids(data);
    expect(plain).toEqual(['a0', 'b0', 'c0', 'a1', 'b1', 'c1', 'a2', 'b2', 'c0#1', 'a0#1', 'b3', 'c1#1']);
    for (const epoch of [3, 4]) expect([...(await ids(data, { ...options, epoch }))].sort()).toEqual([...plain].sort());
  });

  test.each([
    ['concat', {}],
    ['interleave_under', { strategy: 'interleave_under', probabilities: [0.2, 0.5, 0.3] }],
    ['interleave_over', { strategy: 'interleave_over' }],
  ] as const)('%s: shards are every count-th position; startAt resumes inside the shard', async (_name, extra) => {
    const data = await mix(sources, extra);
    for (const base of [{}, { shuffle: true, seed: 6, epoch: 1 }] as IterateOptions[]) {
      const all = await ids(data, base);
      for (const count of [2, 3]) {
        for (let index = 0; index < count; index++) {
          const shard = await ids(data, { ...base, shard: { index, count } });
          expect(shard).toEqual(all.filter((_, j) => j % count === index));
          for (const startAt of [1, 2, shard.length]) {
            expect(await ids(data, { ...base, shard: { index, count }, startAt })).toEqual(shard.slice(startAt));
          }
        }
      }
    }
  });

  test('an impossible shard is an E_CONFIG error', async () => {
    const data = await mix(sources);
    const error = await collect(data, { shard: { index: 3, count: 3 } }).catch((e: unknown) => e);
    expect(isMmftError(error) && error.code).toBe('E_CONFIG');
  });
});
