// The mixed Dataset: a plan of source labels (plan.ts) walked position by position, each source
// read as a stream from where the position needs it. Shuffling permutes the labels and shuffles
// every source's own stream, which is a global shuffle of the mixed list in distribution; shards
// take every count-th position and startAt skips positions of the shard, as the Dataset contract
// (packages/core/src/contracts/dataset.ts) and describeDataset ask.
import type { Dataset, Example, IterateOptions, TaskKind } from '@mmft/core';
import { MmftError } from '@mmft/core';
import type { MixConfig } from './config';
import { mixSeeds, planSources, shuffleSources } from './plan';

/** What one pass over the sources tells: their sizes, the plan, the ids two sources share. */
interface Scan {
  readonly sizes: readonly number[];
  /** Per source, each id's position in its unshuffled order. */
  readonly ordinals: ReadonlyArray<ReadonlyMap<string, number>>;
  /** Per source, how many positions of the plan it fills. */
  readonly totals: readonly number[];
  readonly labels: Int32Array;
  readonly shared: ReadonlySet<string>;
}

/**
 * @example
 * const mixed = new MixedDataset([vqa, captions], mixConfigSchema.parse({ sources: [...], strategy: 'interleave_under' }));
 * for await (const example of mixed.iterate({ shuffle: true, seed: 1 })) console.log(example.id);
 */
export class MixedDataset implements Dataset {
  /** The sources' task when they agree, else the first source's (each example keeps its own). */
  readonly task: TaskKind;
  /** The sources' distinct tasks in source order, when they differ. */
  readonly tasks?: readonly TaskKind[];
  readonly size?: number;
  private scan?: Promise<Scan>;

  constructor(
    private readonly sources: readonly Dataset[],
    private readonly config: Pick<MixConfig, 'strategy' | 'probabilities' | 'seed'>,
    private readonly where = 'mix',
  ) {
    this.task = sources[0]!.task;
    const tasks = [...new Set(sources.flatMap((s) => s.tasks ?? [s.task]))];
    if (tasks.length > 1) this.tasks = tasks;
    const sizes = sources.map((s) => s.size);
    if (sizes.every((n): n is number => n !== undefined) && (config.strategy === 'concat' || sizes.every((n) => n > 0)))
      this.size = planSources(sizes, config).length;
  }

  /** Every source read once, unshuffled: sizes the sources do not declare, and ids they share. */
  private scanned(): Promise<Scan> {
    this.scan ??= (async () => {
      const sizes: number[] = [];
      const ordinals: Array<Map<string, number>> = [];
      const owner = new Map<string, number>();
      const shared = new Set<string>();
      for (const [i, source] of this.sources.entries()) {
        let count = 0;
        const mine = new Map<string, number>();
        for await (const example of source.iterate()) {
          if (!mine.has(example.id)) mine.set(example.id, count);
          count += 1;
          const first = owner.get(example.id);
          if (first === undefined) owner.set(example.id, i);
          else if (first !== i) shared.add(example.id);
        }
        sizes.push(count);
        ordinals.push(mine);
      }
      const labels = planSources(sizes, this.config);
      const totals = sizes.map(() => 0);
      for (const label of labels) totals[label]! += 1;
      return { sizes, ordinals, totals, labels, shared };
    })();
    // A failed scan (a bad record) is reported again on the next try rather than cached.
    this.scan.catch(() => (this.scan = undefined));
    return this.scan;
  }

  async *iterate(options: IterateOptions = {}): AsyncGenerator<Example> {
    const shard = options.shard ?? { index: 0, count: 1 };
    const { index, count } = shard;
    if (!Number.isInteger(count) || count < 1 || !Number.isInteger(index) || index < 0 || index >= count) {
      throw new MmftError('E_CONFIG', `${this.where}: shard index ${shard.index} of ${shard.count} is out of range`, {
        hint: 'use 0 <= index < count',
      });
    }
    const scan = await this.scanned();
    const order = options.shuffle ? shuffleSources(scan.labels, mixSeeds(options.seed ?? 0, options.epoch ?? 0)) : scan.labels;
    const start = index + count * Math.max(0, options.startAt ?? 0);
    if (start >= order.length) return;
    // Positions after the shard's last one need not be read.
    const last = index + count * Math.floor((order.length - 1 - index) / count);
    const consumed = this.sources.map(() => 0);
    for (let j = 0; j < start; j++) consumed[order[j]!]! += 1;
    const cursors = this.sources.map(
      (source, i) => new SourceCursor(source, i, scan.sizes[i]!, scan.totals[i]!, scan.ordinals[i]!, consumed[i]!, options, this.where),
    );
    try {
      for (let j = start; j <= last; j++) {
        const i = order[j]!;
        const mine = (j - index) % count === 0;
        const { example, pass } = await cursors[i]!.next();
        if (mine) yield this.renamed(example, i, pass, scan.shared);
      }
    } finally {
      await Promise.all(cursors.map((c) => c.close()));
    }
  }

  // Two sources may both hold an id "1" (two JSONL files without ids): such ids get the source
  // index in front; an example repeated by interleave_over gets "#<pass>" after its id.
  private renamed(example: Example, source: number, pass: number, shared: ReadonlySet<string>): Example {
    const base = shared.has(example.id) ? `${source}:${example.id}` : example.id;
    const id = pass > 0 ? `${base}#${pass}` : base;
    return id === example.id ? example : { ...example, id };
  }
}

/**
 * One source read from an ordinal on, pass after pass: a full pass yields the whole source, the last
 * pass (interleave_under's unfinished source, interleave_over's partial repeat) only the examples
 * that come first in the source's unshuffled order, so shuffling never changes which examples the
 * mix holds, only their order (as Hugging Face's Trainer shuffles the list interleave_datasets made).
 */
class SourceCursor {
  private iterator?: AsyncIterator<Example>;
  private pass: number;
  private offset: number;
  private skip = 0;

  constructor(
    private readonly source: Dataset,
    private readonly index: number,
    private readonly size: number,
    /** How many positions of the mix this source fills. */
    private readonly total: number,
    /** Each id's position in the source's unshuffled order. */
    private readonly ordinals: ReadonlyMap<string, number>,
    ordinal: number,
    private readonly options: IterateOptions,
    private readonly where: string,
  ) {
    this.pass = size === 0 ? 0 : Math.floor(ordinal / size);
    this.offset = size === 0 ? 0 : ordinal % size;
  }

  private passLength(pass: number): number {
    return pass < Math.floor(this.total / this.size) ? this.size : this.total % this.size;
  }

  async next(): Promise<{ example: Example; pass: number }> {
    if (this.offset >= this.passLength(this.pass)) {
      await this.close();
      this.pass += 1;
      this.offset = 0;
    }
    const length = this.passLength(this.pass);
    // A shuffled partial pass keeps only the examples of the unshuffled prefix, so it cannot start
    // the source at an offset: it reads from the start and skips the kept examples before `offset`.
    const filtered = this.options.shuffle === true && length < this.size;
    if (!this.iterator) {
      this.iterator = this.source.iterate(this.passOptions(filtered ? 0 : this.offset))[Symbol.asyncIterator]();
      this.skip = filtered ? this.offset : 0;
    }
    for (;;) {
      const step = await this.iterator.next();
      if (step.done) {
        throw new MmftError('E_DATA', `${this.where}: sources[${this.index}] ended early, but held ${this.size} examples when first read`, {
          hint: 'a source must yield the same examples every time it is read; was its file changed during the run?',
        });
      }
      if (filtered) {
        if (!((this.ordinals.get(step.value.id) ?? Infinity) < length)) continue;
        if (this.skip > 0) {
          this.skip -= 1;
          continue;
        }
      }
      this.offset += 1;
      return { example: step.value, pass: this.pass };
    }
  }

  // Each pass of a shuffled source is a fresh permutation; unshuffled passes repeat the source's order.
  private passOptions(startAt: number): IterateOptions {
    if (!this.options.shuffle) return { startAt };
    return { shuffle: true, seed: mixSeeds(this.options.seed ?? 0, this.index, this.pass), epoch: this.options.epoch ?? 0, startAt };
  }

  async close(): Promise<void> {
    const iterator = this.iterator;
    this.iterator = undefined;
    await iterator?.return?.();
  }
}
