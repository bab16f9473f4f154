// Conformance kit every dataset plugin runs (docs/conventions.md §11, as tfjs backends re-run core's
// suite): the manifest, typed examples of every declared task, iteration deterministic in seed,
// epoch, shuffle, shard and startAt (what bit-equal resume stands on: Hugging Face datasets'
// `shuffle(seed)` + `shard(num_shards, index)` + skip), and a bad record named by file:line.
import * as path from 'node:path';
import { describe, expect, test } from '@jest/globals';
import type { Dataset, DatasetContext, DatasetProvider, Example, ImageRef, IterateOptions, TaskKind } from '../contracts/dataset';
import { isMmftError } from '../errors';
import { isKebabId } from '../registry/names';

const TASK_KINDS: readonly TaskKind[] = ['caption', 'vqa', 'retrieval', 'instruction', 'text', 'interleaved'];

/** One dataset the provider opens. */
export interface DatasetConformanceCase {
  /** The recipe section without `type`. */
  readonly config: unknown;
  /** Where relative paths resolve from; the working folder when absent. */
  readonly context?: DatasetContext;
  /** The task the opened dataset yields. */
  readonly task: TaskKind;
}

/** A dataset whose record at `file`:`line` is broken: iterating it must fail naming that place. */
export interface DatasetBadRecordCase {
  readonly config: unknown;
  readonly context?: DatasetContext;
  readonly file: string;
  readonly line: number;
}

export interface DatasetConformanceFixture {
  /**
   * Datasets to open, together covering every task the provider declares; each with at least four
   * examples in three or more shuffle units, so seeds, shards and resume points differ.
   */
  readonly cases: readonly DatasetConformanceCase[];
  /** For providers that read records from files; generated datasets have no records to break. */
  readonly badRecord?: DatasetBadRecordCase;
}

/**
 * Register the shared dataset tests for `provider`.
 *
 * @example
 * describeDataset(jsonlDataset, {
 *   cases: [{ config: { path: 'fixtures/caption.jsonl' }, task: 'caption' }, ...],
 *   badRecord: { config: { path: broken }, file: broken, line: 2 },
 * });
 */
export function describeDataset<Config>(provider: DatasetProvider<Config>, fixture: DatasetConformanceFixture): void {
  describe(`dataset conformance: ${provider.id}`, () => {
    test('manifest: kebab-case id, description, declared tasks', () => {
      expect(provider.kind).toBe('dataset');
      expect(isKebabId(provider.id)).toBe(true);
      expect(provider.description.length).toBeGreaterThan(0);
      expect(provider.tasks.length).toBeGreaterThan(0);
      for (const task of provider.tasks) expect(TASK_KINDS).toContain(task);
    });

    test('the fixture opens every declared task, and only declared ones', () => {
      expect([...new Set(fixture.cases.map((c) => c.task))].sort()).toEqual([...provider.tasks].sort());
    });

    describe.each(fixture.cases.map((c, i) => [`${c.task} #${i}`, c] as const))('%s', (_name, sample) => {
      const open = () => openCase(provider, sample.config, sample.context);

      test('typed examples of the declared task, unique ids, size as declared', async () => {
        const dataset = await open();
        expect(dataset.task).toBe(sample.task);
        const examples = await collect(dataset);
        expect(examples.length).toBeGreaterThanOrEqual(4);
        expect(examples.flatMap((e) => exampleProblems(e, sample.task))).toEqual([]);
        expect(new Set(examples.map((e) => e.id)).size).toBe(examples.length);
        if (dataset.size !== undefined) expect(dataset.size).toBe(examples.length);
      });

      test('the same options give the same examples, across iterations and openings', async () => {
        const options: IterateOptions = { shuffle: true, seed: 7, epoch: 1 };
        const first = await collect(await open(), options);
        const dataset = await open();
        expect(await collect(dataset, options)).toEqual(first);
        expect(await collect(dataset, options)).toEqual(first);
        expect(await collect(dataset)).toEqual(await collect(await open()));
      });

      test('shuffling permutes the examples; the seed and the epoch pick the permutation', async () => {
        const dataset = await open();
        const ids = (examples: Example[]) => examples.map((e) => e.id);
        const plain = ids(await collect(dataset));
        const orders = new Set<string>();
        for (let seed = 0; seed < 8; seed += 1) {
          const shuffled = ids(await collect(dataset, { shuffle: true, seed }));
          expect([...shuffled].sort()).toEqual([...plain].sort());
          orders.add(shuffled.join('\n'));
        }
        expect(orders.size).toBeGreaterThan(1);
        const epochs = new Set<string>();
        for (let epoch = 0; epoch < 8; epoch += 1) epochs.add(ids(await collect(dataset, { shuffle: true, seed: 3, epoch })).join('\n'));
        expect(epochs.size).toBeGreaterThan(1);
      });

      test('shards are disjoint, cover the epoch and differ in size by at most one', async () => {
        const dataset = await open();
        const epoch: IterateOptions = { shuffle: true, seed: 5, epoch: 2 };
        const all = (await collect(dataset, epoch)).map((e) => e.id);
        for (const count of [2, 3]) {
          const shards: string[][] = [];
          for (let index = 0; index < count; index += 1)
            shards.push((await collect(dataset, { ...epoch, shard: { index, count } })).map((e) => e.id));
          expect(shards.flat().sort()).toEqual([...all].sort());
          const sizes = shards.map((s) => s.length);
          expect(Math.max(...sizes) - Math.min(...sizes)).toBeLessThanOrEqual(1);
        }
      });

      test('startAt resumes exactly where the order left off, sharded or not', async () => {
        const dataset = await open();
        for (const base of [
          {},
          { shuffle: true, seed: 11, epoch: 3 },
          { shuffle: true, seed: 11, shard: { index: 1, count: 2 } },
        ] as IterateOptions[]) {
          const full = await collect(dataset, base);
          for (const startAt of [0, 1, Math.floor(full.length / 2), full.length - 1, full.length, full.length + 2]) {
            expect(await collect(dataset, { ...base, startAt })).toEqual(full.slice(startAt));
          }
        }
      });

      test('an impossible shard is an MmftError, not an empty epoch', async () => {
        const dataset = await open();
        const error = await collect(dataset, { shard: { index: 2, count: 2 } }).then(
          () => undefined,
          (e: unknown) => e,
        );
        expect(isMmftError(error)).toBe(true);
      });
    });

    const bad = fixture.badRecord;
    if (bad) {
      test('a bad record fails with E_DATA naming its file and line', async () => {
        const error = await openCase(provider, bad.config, bad.context)
          .then((dataset) => collect(dataset))
          .then(
            () => undefined,
            (e: unknown) => e,
          );
        expect(isMmftError(error) && error.code).toBe('E_DATA');
        expect((error as Error).message).toContain(`${path.basename(bad.file)}:${bad.line}`);
      });
    }
  });
}

/** Parse the section with the provider's schema (as the registry does) and open it. */
async function openCase<Config>(provider: DatasetProvider<Config>, config: unknown, context?: DatasetContext): Promise<Dataset> {
  const parsed = provider.configSchema.safeParse(config);
  if (!parsed.success) throw new Error(`fixture config for dataset "${provider.id}" does not parse: ${parsed.error.message}`);
  return provider.open(parsed.data, context ?? { baseDir: process.cwd() });
}

async function collect(dataset: Dataset, options?: IterateOptions): Promise<Example[]> {
  const out: Example[] = [];
  for await (const example of dataset.iterate(options)) out.push(example);
  return out;
}

const isText = (value: unknown): value is string => typeof value === 'string' && value.length > 0;
const isTextList = (value: unknown, nonEmpty: boolean): boolean =>
  Array.isArray(value) && (!nonEmpty || value.length > 0) && value.every(isText);

function imageProblems(image: ImageRef | undefined): string[] {
  if (image?.kind === 'file') return path.isAbsolute(image.path) ? [] : [`image path "${image.path}" is not absolute`];
  if (image?.kind === 'bytes') {
    const ok =
      image.bytes instanceof Uint8Array &&
      image.bytes.length > 0 &&
      ['png', 'jpeg', 'webp', 'svg'].includes(image.format) &&
      isText(image.key);
    return ok ? [] : ['image bytes need non-empty bytes, a format and a key'];
  }
  return [`image is not a file or bytes reference: ${JSON.stringify(image)}`];
}

/** What is wrong with `example` as an example of `task` (empty when it is well typed). */
function exampleProblems(example: Example, task: TaskKind): string[] {
  const where = `example ${JSON.stringify(example.id)}`;
  const problems: string[] = [];
  if (example.task !== task) problems.push(`task is "${example.task}", dataset says "${task}"`);
  if (!isText(example.id)) problems.push('id is not a non-empty string');
  // Plain text never has an image; a conversation may be text-only; the other tasks need one.
  if (example.task === 'text' || example.task === 'interleaved') {
    if (example.image !== undefined)
      problems.push('a text or interleaved example has an image field (a document keeps its images in segments)');
  } else if (example.task !== 'instruction' || example.image !== undefined) problems.push(...imageProblems(example.image));
  if (example.source && !(isText(example.source.file) && Number.isInteger(example.source.line) && example.source.line >= 1)) {
    problems.push('source needs a file and a 1-based line');
  }
  switch (example.task) {
    case 'caption':
      if (!isTextList(example.captions, true)) problems.push('captions is not a non-empty list of texts');
      break;
    case 'vqa':
      if (!isText(example.question)) problems.push('question is not a text');
      if (typeof example.answer !== 'string') problems.push('answer is not a string');
      if (example.answers !== undefined && !isTextList(example.answers, true)) problems.push('answers is not a list of texts');
      break;
    case 'retrieval':
      if (!isTextList(example.texts, true)) problems.push('texts is not a non-empty list of texts');
      if (example.negativeTexts !== undefined && !isTextList(example.negativeTexts, false))
        problems.push('negativeTexts is not a list of texts');
      break;
    case 'instruction':
      if (!Array.isArray(example.turns) || example.turns.length === 0) problems.push('turns is not a non-empty list');
      else if (!example.turns.every((t) => ['user', 'assistant', 'system'].includes(t.role) && typeof t.content === 'string'))
        problems.push('a turn needs a role (user, assistant, system) and content');
      break;
    case 'text':
      if (!isText(example.text)) problems.push('text is not a non-empty text');
      break;
    case 'interleaved':
      if (!Array.isArray(example.segments) || !example.segments.some((s) => s.text !== undefined))
        problems.push('segments is not a list holding at least one text');
      else
        for (const s of example.segments) {
          if ((s.image === undefined) === (s.text === undefined)) problems.push('a segment needs exactly one of image and text');
          else if (s.image !== undefined) problems.push(...imageProblems(s.image));
          else if (!isText(s.text)) problems.push('a text segment is not a non-empty text');
        }
      break;
    default:
      problems.push(`unknown task ${JSON.stringify((example as { task: unknown }).task)}`);
  }
  return problems.map((p) => `${where}: ${p}`);
}
