// The shapes Dataset: streams typed examples with in-memory PNG ImageRefs. Shuffling permutes
// images (an image's examples stay together); sharding and resume count examples, as the
// Dataset contract says, and images with no example left to yield are never rendered.
import type { Dataset, Example, IterateOptions, TaskKind } from '@mmft/core';
import { MmftError } from '@mmft/core';
import { deriveSeed, SeededRng } from '@mmft/image';
import { isTextCorpus, type ShapesConfig } from './config';
import { examplesOf, examplesPerImage, renderSamples } from './generate';

/**
 * @example
 * const ds = new ShapesDataset(shapesConfigSchema.parse({ task: 'vqa', n: 100, lang: 'zh' }));
 * for await (const ex of ds.iterate({ shuffle: true, seed: 1 })) console.log(ex.id);
 */
export class ShapesDataset implements Dataset {
  readonly task: TaskKind;
  readonly size: number;

  constructor(readonly config: ShapesConfig) {
    if (isTextCorpus(config)) {
      const what = `task ${config.task}${config.images ? '' : ' without images'}`;
      throw new MmftError('E_CONFIG', `${what} is the text corpus: open it with ShapesTextDataset`, {
        hint: 'the shapes provider picks the right class: shapesDataset.open(config)',
      });
    }
    this.task = config.task;
    this.size = config.n * examplesPerImage(config, config.task);
  }

  private imageOrder(options: IterateOptions): number[] {
    const indices = [...Array(this.config.n).keys()];
    return options.shuffle ? new SeededRng(deriveSeed(options.seed ?? 0, options.epoch ?? 0)).shuffle(indices) : indices;
  }

  async *iterate(options: IterateOptions = {}): AsyncGenerator<Example> {
    const shard = options.shard ?? { index: 0, count: 1 };
    if (!Number.isInteger(shard.count) || shard.count < 1 || shard.index < 0 || shard.index >= shard.count) {
      throw new MmftError('E_CONFIG', `shard index ${shard.index} of ${shard.count} is out of range`, { hint: 'use 0 <= index < count' });
    }
    const perImage = examplesPerImage(this.config, this.task);
    const order = this.imageOrder(options);
    // Plan which examples of which images this shard yields after `startAt`, before rendering anything.
    const wanted = new Map<number, number[]>();
    let inShard = 0;
    for (const [position, image] of order.entries()) {
      for (let k = 0; k < perImage; k++) {
        if ((position * perImage + k) % shard.count !== shard.index) continue;
        if (inShard++ < (options.startAt ?? 0)) continue;
        wanted.set(image, [...(wanted.get(image) ?? []), k]);
      }
    }
    for await (const sample of renderSamples(this.config, wanted.keys())) {
      const examples = examplesOf(this.config, sample, this.task);
      for (const k of wanted.get(sample.index) ?? []) yield examples[k] as Example;
    }
  }
}
