// Writes the shapes dataset to disk in the JSONL formats data-jsonl reads: captions.jsonl,
// vqa.jsonl, retrieval.jsonl, instruction.jsonl (LLaVA layout) and images/. Output is
// byte-identical for the same options: files are written in image order, keys in fixed order.
import * as fs from 'node:fs';
import * as path from 'node:path';
import type { Example, TaskKind } from '@mmft/core';
import { MmftError } from '@mmft/core';
import { shapesConfigSchema, SHAPES_TASKS, type ShapesConfigInput } from './config';
import { examplesOf, renderSamples } from './generate';

export const TASK_FILES: Readonly<Record<TaskKind, string>> = {
  caption: 'captions.jsonl',
  vqa: 'vqa.jsonl',
  retrieval: 'retrieval.jsonl',
  instruction: 'instruction.jsonl',
  text: 'text.jsonl',
  interleaved: 'interleaved.jsonl',
};

/** One JSONL record of an example, `image` relative to the output folder. */
export function toRecord(example: Example, image: string): Record<string, unknown> {
  if (example.task === 'text') return { id: example.id, text: example.text, lang: example.lang };
  const base = { id: example.id, image, lang: example.lang };
  switch (example.task) {
    case 'caption':
      return { ...base, caption: example.captions };
    case 'vqa':
      return {
        ...base,
        question: example.question,
        answer: example.answer,
        answers: example.answers,
        question_type: example.questionType,
        answer_type: example.answerType,
      };
    case 'retrieval':
      return { ...base, captions: example.texts, neg_text: example.negativeTexts };
    case 'instruction':
      return { ...base, conversations: example.turns.map((t) => ({ from: t.role === 'user' ? 'human' : 'gpt', value: t.content })) };
    case 'interleaved':
      throw new MmftError(
        'E_UNSUPPORTED',
        `shapes example "${example.id}": the shapes writer has no interleaved layout (it writes one image per record)`,
      );
  }
}

export interface WriteShapesOptions extends Omit<ShapesConfigInput, 'task'> {
  /** Tasks to write (default: all four). */
  readonly tasks?: readonly TaskKind[];
  /** Called after each image with the number of images done. */
  readonly onProgress?: (done: number, total: number) => void;
}

export interface WriteShapesResult {
  readonly images: number;
  /** Records written per file name. */
  readonly records: Readonly<Record<string, number>>;
}

/**
 * Generate the dataset into `outDir` (created if missing).
 *
 * @example
 * await writeShapesDataset('data/shapes-b', { n: 5000, domain: 'B', lang: 'zh' });
 */
export async function writeShapesDataset(outDir: string, options: WriteShapesOptions = {}): Promise<WriteShapesResult> {
  const { tasks = SHAPES_TASKS, onProgress, ...rest } = options;
  if (tasks.includes('text')) {
    throw new MmftError('E_CONFIG', 'the text corpus has no images to write: use the shapes dataset with task: text in a recipe', {
      hint: `write the image tasks (${SHAPES_TASKS.join(', ')})`,
    });
  }
  const config = shapesConfigSchema.parse(rest);
  try {
    fs.mkdirSync(path.join(outDir, 'images'), { recursive: true });
  } catch (cause) {
    throw new MmftError('E_IO', `cannot create the output folder ${outDir}: ${(cause as Error).message}`, { cause });
  }
  const streams = new Map(tasks.map((task) => [task, fs.createWriteStream(path.join(outDir, TASK_FILES[task]))]));
  const records: Record<string, number> = Object.fromEntries(tasks.map((t) => [TASK_FILES[t], 0]));
  let done = 0;
  try {
    for await (const sample of renderSamples(config, [...Array(config.n).keys()])) {
      await fs.promises.writeFile(path.join(outDir, sample.imagePath), sample.png);
      for (const [task, stream] of streams) {
        const lines = examplesOf(config, sample, task).map((ex) => `${JSON.stringify(toRecord(ex, sample.imagePath))}\n`);
        records[TASK_FILES[task]]! += lines.length;
        if (!stream.write(lines.join(''))) await new Promise<void>((resolve) => stream.once('drain', () => resolve()));
      }
      onProgress?.(++done, config.n);
    }
  } finally {
    await Promise.all(
      [...streams.values()].map(
        (s) => new Promise<void>((resolve, reject) => s.end((error?: Error | null) => (error ? reject(error) : resolve()))),
      ),
    );
  }
  return { images: config.n, records };
}
