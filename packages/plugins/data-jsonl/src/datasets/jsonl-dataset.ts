// A Dataset over a JSONL file. Opening indexes record offsets in one streaming pass (16 bytes per
// record, io/line-index.ts); each epoch then reads records by position in the seeded order, so
// memory stays bounded by the index plus one batch of records however large the file is.
import * as fs from 'node:fs/promises';
import * as path from 'node:path';
import { MmftError, type Dataset, type Example, type IterateOptions, type TaskKind } from '@mmft/core';
import { decodeLine } from '../io/decode-line';
import { indexJsonArray, isJsonArrayFile } from '../io/json-array';
import { indexLines, type LineIndex } from '../io/line-index';
import { visitOrder } from '../io/order';
import type { ImagePathPolicy } from '../records/image-path';
import type { ShareGptLayout } from '../records/instruction';
import { checkRecord, detectTask, parseJsonLine, TASKS } from '../records/parse-record';
import { resolveDataSource } from './dataset-info';

export interface JsonlDatasetOptions {
  readonly task?: TaskKind;
  readonly root?: string;
  readonly allowOutsideRoot?: boolean;
  /** Entry of a LLaMA-Factory dataset_info.json given as the file (also "dataset_info.json#name"). */
  readonly name?: string;
}

/**
 * Open a JSONL file of one task format.
 *
 * @example
 * const data = await openJsonlDataset('/data/train.jsonl', { task: 'caption' });
 * for await (const ex of data.iterate({ shuffle: true, seed: 1, epoch: 0 })) console.log(ex.id);
 */
export async function openJsonlDataset(spec: string, options: JsonlDatasetOptions = {}): Promise<Dataset> {
  const { file, layout } = resolveDataSource(spec, options.name);
  const array = await isJsonArrayFile(file).catch(() => false);
  const index = await (array ? indexJsonArray(file) : indexLines(file)).catch((cause: unknown) => {
    throw cause instanceof MmftError ? cause : new MmftError('E_IO', `cannot read ${file}`, { cause });
  });
  const handle = await fs.open(file, 'r');
  const policy: ImagePathPolicy = { baseDir: path.dirname(file), root: options.root, allowOutsideRoot: options.allowOutsideRoot };
  try {
    if (index.count === 0) {
      throw new MmftError('E_DATA', `${file} holds no records`, {
        hint: 'JSONL files hold one JSON object per line; JSON files one array of objects',
      });
    }
    const task = layout ? 'instruction' : (options.task ?? detect(await readRecord(handle, index, 0, file, array), file));
    return new JsonlDataset(file, task, index, policy, array, layout);
  } finally {
    await handle.close();
  }
}

class JsonlDataset implements Dataset {
  readonly size: number;
  constructor(
    private readonly file: string,
    readonly task: TaskKind,
    private readonly index: LineIndex,
    private readonly policy: ImagePathPolicy,
    private readonly array: boolean,
    private readonly layout?: ShareGptLayout,
  ) {
    this.size = index.count;
  }

  async *iterate(options: IterateOptions = {}): AsyncIterable<Example> {
    const handle = await fs.open(this.file, 'r');
    try {
      const order = visitOrder(this.index.count, options);
      for (let batch = take(order, READ_BATCH); batch.length > 0; batch = take(order, READ_BATCH)) {
        // Shuffled reads have no locality: issue a batch at once so libuv's threads overlap them.
        // allSettled + in-order rethrow: a bad record fails exactly where the order reaches it.
        const records = await Promise.allSettled(batch.map((position) => readRecord(handle, this.index, position, this.file, this.array)));
        for (const [i, read] of records.entries()) {
          if (read.status === 'rejected') throw read.reason;
          yield this.example(read.value.record, read.value.line, this.array ? batch[i] : undefined);
        }
      }
    } finally {
      await handle.close();
    }
  }

  private example(record: Record<string, unknown>, line: number, element?: number): Example {
    const checked = checkRecord(this.task, record, { file: this.file, line, element, policy: this.policy, layout: this.layout });
    if (checked.ok) return checked.view.example;
    throw new MmftError('E_DATA', `${where(this.file, line, element)}: ${checked.issues[0]!.message}`, {
      hint: `run \`mmft data validate ${this.file}\` to list every problem, or --fix OUT to write a cleaned copy`,
    });
  }
}

/** Records read concurrently per step: bounds memory to this many records in flight. */
const READ_BATCH = 64;

function take(order: Iterator<number>, n: number): number[] {
  const out: number[] = [];
  while (out.length < n) {
    const next = order.next();
    if (next.done) break;
    out.push(next.value);
  }
  return out;
}

function where(file: string, line: number, element: number | undefined): string {
  return element === undefined ? `${file}:${line}` : `${file}:${line} (element ${element})`;
}

async function readRecord(handle: fs.FileHandle, index: LineIndex, position: number, file: string, array = false) {
  const line = index.lines[position]!;
  const bytes = new Uint8Array(index.lengths[position]!);
  await handle.read(bytes, 0, bytes.length, index.offsets[position]!);
  const decoded = decodeLine(bytes, line === 1);
  const hint = `run \`mmft data validate ${file}\` to list every problem`;
  const at = where(file, line, array ? position : undefined);
  if (!decoded.ok) throw new MmftError('E_DATA', `${at}: byte ${decoded.byteColumn} is not UTF-8; save the file as UTF-8`, { hint });
  const terminated = array || position < index.count - 1 || (await endsWithNewline(handle, index, position));
  const parsed = parseJsonLine(decoded.text, terminated);
  if (!parsed.ok) throw new MmftError('E_DATA', `${at}: ${parsed.issues[0]!.message}`, { hint });
  return { record: parsed.record, line };
}

async function endsWithNewline(handle: fs.FileHandle, index: LineIndex, position: number): Promise<boolean> {
  const after = new Uint8Array(1);
  const { bytesRead } = await handle.read(after, 0, 1, index.offsets[position]! + index.lengths[position]!);
  return bytesRead === 1;
}

function detect({ record, line }: { record: Record<string, unknown>; line: number }, file: string): TaskKind {
  const task = detectTask(record);
  if (task) return task;
  throw new MmftError('E_DATA', `${file}:${line}: cannot tell the task format from keys ${JSON.stringify(Object.keys(record))}`, {
    hint: `set "task" to one of ${TASKS.join(', ')} in the dataset section`,
  });
}
