import * as path from 'node:path';
import * as fs from 'node:fs';
import { describe, expect, test } from '@jest/globals';
import type { Example } from '@mmft/core';
import { cocoCaptionsDataset, openJsonlDataset, vqaV2Dataset } from './index';
import { collect, dataDir, FIXTURES, jsonl, writeData } from './testing/fixtures';

const golden = (name: string) => JSON.parse(fs.readFileSync(path.join(FIXTURES, 'golden', `${name}.json`), 'utf8'));
const relative = (e: Example) => ({
  ...e,
  ...(e.image?.kind === 'file' ? { image: { ...e.image, path: path.relative(FIXTURES, e.image.path) } } : { image: e.image }),
  source: e.source && { ...e.source, file: path.relative(FIXTURES, e.source.file) },
});

describe('golden files: every task format reads to the documented examples', () => {
  test.each(['caption', 'vqa', 'retrieval', 'instruction'])('%s.jsonl (task detected from keys)', async (task) => {
    const data = await openJsonlDataset(path.join(FIXTURES, `${task}.jsonl`));
    expect({ task: data.task, size: data.size, examples: (await collect(data)).map(relative) }).toEqual(golden(task));
  });

  test('COCO captions annotation JSON, grouped per image', async () => {
    const data = await cocoCaptionsDataset.open({ annotations: 'coco/captions_val2014.json', images: 'coco' }, { baseDir: FIXTURES });
    expect({ task: data.task, size: data.size, examples: (await collect(data)).map(relative) }).toEqual(golden('coco-captions'));
  });

  test('VQA v2 questions + annotations joined by question_id', async () => {
    const data = await vqaV2Dataset.open(
      {
        questions: 'vqa-v2/v2_OpenEnded_mscoco_val2014_questions.json',
        annotations: 'vqa-v2/v2_mscoco_val2014_annotations.json',
        images: 'vqa-v2/val2014',
      },
      { baseDir: FIXTURES },
    );
    expect({ task: data.task, size: data.size, examples: (await collect(data)).map(relative) }).toEqual(golden('vqa-v2'));
  });
});

describe('reading edge cases', () => {
  test('BOM, CRLF, Chinese text and a final line without newline read cleanly', async () => {
    const dir = dataDir();
    const text = '\uFEFF{"image": "images/red.png", "caption": "红色的方块"}\r\n{"image": "images/blue.png", "caption": "蓝色"}';
    const data = await openJsonlDataset(writeData(dir, 'a.jsonl', text));
    const examples = await collect(data);
    expect(examples.map((e) => (e.task === 'caption' ? e.captions : []))).toEqual([['红色的方块'], ['蓝色']]);
    expect(examples.map((e) => e.source?.line)).toEqual([1, 2]);
  });

  test('a truncated last line fails with file:line and says it may be truncated', async () => {
    const dir = dataDir();
    const file = writeData(dir, 't.jsonl', '{"image": "images/red.png", "caption": "ok"}\n{"image": "images/blue.png", "capt');
    const data = await openJsonlDataset(file, { task: 'caption' });
    await expect(collect(data)).rejects.toThrow(`${file}:2: invalid JSON`);
    await expect(collect(data)).rejects.toThrow('truncated');
  });

  test('a wrong-typed field stops iteration naming file, line and field', async () => {
    const dir = dataDir();
    const file = writeData(dir, 'w.jsonl', jsonl({ image: 'images/red.png', caption: 'ok' }, { image: 'images/red.png', caption: 7 }));
    await expect(collect(await openJsonlDataset(file))).rejects.toThrow(
      `${file}:2: field "caption" must be a string or an array of strings`,
    );
  });

  test('path traversal and absolute paths are refused unless allowed', async () => {
    const dir = dataDir();
    const file = writeData(dir, 'p.jsonl', jsonl({ image: '../../etc/passwd', caption: 'x' }));
    await expect(collect(await openJsonlDataset(file))).rejects.toThrow('outside the data root');
    const allowed = await collect(await openJsonlDataset(file, { allowOutsideRoot: true }));
    expect(allowed[0]?.image).toEqual({ kind: 'file', path: path.resolve(dir, '../../etc/passwd') });
    const abs = writeData(dir, 'abs.jsonl', jsonl({ image: path.join(dir, 'images', 'red.png'), caption: 'x' }));
    await expect(collect(await openJsonlDataset(abs))).rejects.toThrow('outside the data root');
  });

  test('URLs are not fetched: a clear error', async () => {
    const dir = dataDir();
    const file = writeData(dir, 'u.jsonl', jsonl({ image: 'https://example.com/cat.jpg', caption: 'x' }));
    await expect(collect(await openJsonlDataset(file))).rejects.toThrow('mmft does not fetch images');
  });

  test('an unknown record shape asks for the task', async () => {
    const dir = dataDir();
    const file = writeData(dir, 'x.jsonl', jsonl({ image: 'images/red.png', label: 3 }));
    await expect(openJsonlDataset(file)).rejects.toThrow(`${file}:1: cannot tell the task format`);
  });
});
