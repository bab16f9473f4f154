// Fake dataset providers for the mix tests: `fake` yields `n` examples of a task with ids
// `<prefix><k>`, honouring shuffle/shard/startAt the simple way (a seeded permutation of 0..n-1);
// `stream` is the same without a declared size. No other plugin is involved.
import { z } from 'zod';
import {
  datasetContext,
  definePlugin,
  PluginRegistry,
  recipePath,
  type Dataset,
  type DatasetProvider,
  type Example,
  type IterateOptions,
  type TaskKind,
} from '@mmft/core';
import { SeededRandom } from '@mmft/core/generation';
import plugin from './index';

const fakeSchema = z.strictObject({
  task: z.enum(['caption', 'vqa', 'retrieval', 'instruction', 'text', 'interleaved']).default('caption'),
  n: z.number().int().min(0).default(4),
  prefix: z.string().default('x'),
  path: recipePath(z.string()).optional(),
});
type FakeConfig = z.output<typeof fakeSchema>;

const image = (key: string) => ({ kind: 'bytes' as const, bytes: new Uint8Array([1, 2, 3]), format: 'png' as const, key });

export function fakeExample(task: TaskKind, id: string): Example {
  switch (task) {
    case 'caption':
      return { id, task, image: image(id), captions: [`caption ${id}`] };
    case 'vqa':
      return { id, task, image: image(id), question: `question ${id}?`, answer: 'yes' };
    case 'retrieval':
      return { id, task, image: image(id), texts: [`text ${id}`] };
    case 'instruction':
      return {
        id,
        task,
        turns: [
          { role: 'user', content: `hi ${id}` },
          { role: 'assistant', content: 'hello' },
        ],
      };
    case 'text':
      return { id, task, text: `text ${id}` };
    case 'interleaved':
      return { id, task, segments: [{ image: image(id) }, { text: `text ${id}` }] };
  }
}

/** The ids a fake source of `n` yields for these options (the reference the mix is checked against). */
export function fakeOrder(n: number, options: IterateOptions = {}): number[] {
  const order = [...Array(n).keys()];
  if (options.shuffle) {
    const random = new SeededRandom((options.seed ?? 0) * 1000 + (options.epoch ?? 0));
    for (let i = n - 1; i > 0; i--) {
      const j = Math.floor(random.next() * (i + 1));
      [order[i], order[j]] = [order[j]!, order[i]!];
    }
  }
  const shard = options.shard ?? { index: 0, count: 1 };
  return order.filter((_, k) => k % shard.count === shard.index).slice(options.startAt ?? 0);
}

/** Every opened fake dataset, with the options of each iterate call. */
export const opened: Array<{ config: FakeConfig; calls: IterateOptions[] }> = [];

function fakeDataset(config: FakeConfig, declareSize: boolean): Dataset {
  const calls: IterateOptions[] = [];
  opened.push({ config, calls });
  return {
    task: config.task,
    ...(declareSize ? { size: config.n } : {}),
    async *iterate(options: IterateOptions = {}) {
      calls.push(options);
      for (const k of fakeOrder(config.n, options)) yield fakeExample(config.task, `${config.prefix}${k}`);
    },
  };
}

export const fakeProvider: DatasetProvider<FakeConfig> = {
  kind: 'dataset',
  id: 'fake',
  description: 'n generated examples of one task',
  configSchema: fakeSchema,
  tasks: ['caption', 'vqa', 'retrieval', 'instruction', 'text', 'interleaved'],
  open: async (config) => fakeDataset(config, true),
};

export const streamProvider: DatasetProvider<FakeConfig> = {
  ...fakeProvider,
  id: 'stream',
  description: 'the fake dataset without a declared size',
  open: async (config) => fakeDataset(config, false),
};

/** A registry holding the mix and the two fakes. */
export function fakeRegistry(): PluginRegistry {
  const registry = new PluginRegistry();
  registry.use(plugin, plugin.meta.name);
  const fakes = definePlugin({
    name: 'fake-sources',
    version: '0.0.0',
    description: 'fake datasets for tests',
    provides: [fakeProvider, streamProvider],
  });
  registry.use(fakes, 'fake-sources');
  return registry;
}

/** A context that opens sections through `fakeRegistry()`. */
export const fakeContext = (baseDir = '/recipes', where = 'data.eval') => datasetContext(fakeRegistry(), baseDir, where);

export async function collect(dataset: Dataset, options?: IterateOptions): Promise<Example[]> {
  const out: Example[] = [];
  for await (const example of dataset.iterate(options)) out.push(example);
  return out;
}
