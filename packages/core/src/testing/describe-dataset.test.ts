// The dataset kit on the smallest provider that keeps the contract: captions in memory, a seeded
// Fisher–Yates shuffle, strided shards, startAt over the shard's order, and a record that fails
// naming its (pretend) file and line. Dataset plugins run the same kit on their real readers.
import { z } from 'zod';
import type { CaptionExample, DatasetProvider, IterateOptions } from '../contracts/dataset';
import { MmftError } from '../errors';
import { describeDataset } from './describe-dataset';

const schema = z.strictObject({ n: z.number().int().positive(), broken: z.number().int().optional() });

function order(n: number, { shuffle, seed = 0, epoch = 0 }: IterateOptions): number[] {
  const out = [...Array(n).keys()];
  if (!shuffle) return out;
  let state = (seed * 7919 + epoch * 104729 + 1) >>> 0;
  for (let i = n - 1; i > 0; i -= 1) {
    state = (Math.imul(state, 1664525) + 1013904223) >>> 0;
    const j = state % (i + 1);
    [out[i], out[j]] = [out[j]!, out[i]!];
  }
  return out;
}

const memoryCaptions: DatasetProvider<z.output<typeof schema>> = {
  kind: 'dataset',
  id: 'memory-captions',
  description: 'captions held in memory (kit self-test)',
  configSchema: schema,
  tasks: ['caption'],
  async open({ n, broken }) {
    return {
      task: 'caption',
      size: n,
      async *iterate(options: IterateOptions = {}) {
        const { index, count } = options.shard ?? { index: 0, count: 1 };
        if (index < 0 || index >= count) throw new MmftError('E_CONFIG', `shard ${index} of ${count} is out of range`);
        const mine = order(n, options).filter((_, k) => k % count === index);
        for (const i of mine.slice(options.startAt ?? 0)) {
          if (i + 1 === broken) throw new MmftError('E_DATA', `memory.jsonl:${i + 1}: caption is empty`);
          const example: CaptionExample = {
            task: 'caption',
            id: `m${i}`,
            image: { kind: 'file', path: `/images/${i}.png` },
            captions: [`caption ${i}`],
          };
          yield example;
        }
      },
    };
  },
};

describeDataset(memoryCaptions, {
  cases: [{ config: { n: 6 }, task: 'caption' }],
  badRecord: { config: { n: 4, broken: 3 }, file: 'memory.jsonl', line: 3 },
});
