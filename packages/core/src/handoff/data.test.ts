import { describe, expect, test } from '@jest/globals';
import { createHash } from 'node:crypto';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import type { Example, ImageRef } from '../contracts/dataset';
import type { HandoffConversation } from '../contracts/objective';
import { writeHandoffData } from './data';
import { handoffReadme, writeHandoffBundle } from './bundle';
import type { HandoffPlan } from '../contracts/handoff';

async function* iterate(examples: readonly Example[]): AsyncIterable<Example> {
  yield* examples;
}
const chat = (e: Example): HandoffConversation[] =>
  e.task === 'vqa'
    ? [
        {
          messages: [
            { role: 'user', content: `<image>\n${e.question}` },
            { role: 'assistant', content: e.answer },
          ],
          images: [e.image],
        },
      ]
    : [];
const hashName = (bytes: Uint8Array, ext: string) => `images/${createHash('sha256').update(bytes).digest('hex').slice(0, 20)}.${ext}`;

describe('writeHandoffData', () => {
  test('rows name each image by content, relative to data/; same content is written once; inputs stay as they were', async () => {
    const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'mmft-data-'));
    const png = new Uint8Array([137, 80, 78, 71, 1, 2, 3]);
    const file = path.join(tmp, 'in.PNG');
    fs.writeFileSync(file, png);
    const svg: ImageRef = { kind: 'bytes', bytes: new TextEncoder().encode('<svg/>'), format: 'svg', key: 'scene-1' };
    const same: ImageRef = { kind: 'bytes', bytes: png, format: 'png', key: 'other-key' };
    const rasterised = new Uint8Array([137, 80, 78, 71, 9]);
    const calls: string[] = [];
    const out = path.join(tmp, 'bundle');
    const data = await writeHandoffData(
      {
        train: iterate([
          { task: 'vqa', id: 'a', image: { kind: 'file', path: file }, question: 'Q1', answer: 'A1' },
          { task: 'vqa', id: 'b', image: svg, question: 'Q2', answer: 'A2' },
          { task: 'vqa', id: 'c', image: svg, question: 'Q3', answer: 'A3' },
        ]),
        eval: iterate([{ task: 'vqa', id: 'd', image: same, question: 'Q4', answer: 'A4' }]),
      },
      chat,
      out,
      {
        toPng: async (image) => {
          calls.push(image.kind === 'bytes' ? image.key : image.path);
          return rasterised;
        },
      },
    );
    expect(data).toEqual({
      train: 'data/train.jsonl',
      eval: 'data/eval.jsonl',
      trainRows: 3,
      evalRows: 1,
      imagesDir: 'data/images',
      imageCount: 2,
    });
    const rows = fs
      .readFileSync(path.join(out, 'data/train.jsonl'), 'utf8')
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l) as { images: string[] });
    expect(rows[0]).toEqual({
      messages: [
        { role: 'user', content: '<image>\nQ1' },
        { role: 'assistant', content: 'A1' },
      ],
      images: [hashName(png, 'png')],
    });
    expect(rows[1]!.images).toEqual([hashName(rasterised, 'png')]);
    expect(rows[2]!.images).toEqual(rows[1]!.images);
    expect(calls).toEqual(['scene-1']); // rasterised once per source
    const evalRow = JSON.parse(fs.readFileSync(path.join(out, 'data/eval.jsonl'), 'utf8')) as { images: string[] };
    expect(evalRow.images).toEqual(rows[0]!.images); // same bytes as the file: one copy
    expect(fs.readdirSync(path.join(out, 'data/images')).sort()).toEqual(
      [hashName(png, 'png'), hashName(rasterised, 'png')].map((p) => p.slice(7)).sort(),
    );
    expect(new Uint8Array(fs.readFileSync(path.join(out, 'data', rows[0]!.images[0]!)))).toEqual(png);
    expect(new Uint8Array(fs.readFileSync(file))).toEqual(png);
  });

  test('SVG without toPng and an empty train split are errors naming the example or split', async () => {
    const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'mmft-data-'));
    const svg: ImageRef = { kind: 'bytes', bytes: new Uint8Array([1]), format: 'svg', key: 'k' };
    await expect(
      writeHandoffData({ train: iterate([{ task: 'vqa', id: 'x', image: svg, question: 'q', answer: 'a' }]) }, chat, tmp),
    ).rejects.toThrow(/example "x": image "k" is SVG/);
    await expect(writeHandoffData({ train: iterate([]) }, chat, tmp)).rejects.toThrow(/data.train gave no rows/);
  });
});

describe('writeHandoffBundle', () => {
  test('the manifest holds target, output, model and every gap; the README sorts mappings into one-to-one, converted and not carried over', () => {
    const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'mmft-bundle-'));
    const plan = {
      recipeFile: '/r/x.yaml',
      name: 'x',
      seed: 0,
      model: { path: '/m', localPath: '/m', modelType: 'llava' },
      gaps: [{ field: 'objective.few_shot', why: 'demos' }],
    } as unknown as HandoffPlan;
    const launch = { gpus: 4, nodes: 2, strategy: 'zero2', precision: 'bf16', outputDir: 'output' } as const;
    const data = { train: 'data/train.jsonl', trainRows: 3, evalRows: 0, imagesDir: 'data/images' };
    const result = {
      files: ['train.yaml'],
      commands: ['llamafactory-cli train train.yaml'],
      mappings: [
        { mmft: 'train.lr', target: 'learning_rate (train.yaml)' },
        { mmft: 'train.batch_size', target: 'per_device_train_batch_size (train.yaml)', note: '16 = 2 × 1 × 8 | per device' },
      ],
      gaps: [{ field: 'train.lr_groups.0', why: 'no per-part rate' }],
      output: 'output',
    };
    const input = { plan, launch, data, result, target: { id: 'llamafactory', engine: 'LLaMA-Factory' }, mmftVersion: '9.9.9' };
    const manifest = writeHandoffBundle(tmp, input, new Date(0));
    const read = JSON.parse(fs.readFileSync(path.join(tmp, 'mmft-handoff.json'), 'utf8'));
    expect(read).toEqual(JSON.parse(JSON.stringify(manifest)));
    expect(read).toMatchObject({
      format: 'mmft-handoff',
      formatVersion: 1,
      target: { id: 'llamafactory' },
      output: 'output',
      model: { localPath: '/m' },
      createdAt: '1970-01-01T00:00:00.000Z',
      gaps: [{ field: 'objective.few_shot' }, { field: 'train.lr_groups.0' }],
      files: ['train.yaml', 'mmft-handoff.json', 'README.md'],
    });
    const readme = fs.readFileSync(path.join(tmp, 'README.md'), 'utf8');
    expect(readme).toBe(handoffReadme(input, manifest));
    const section = (title: string) => readme.split(`## ${title}\n`)[1]!.split('\n## ')[0]!;
    expect(section('Maps one to one')).toContain('| train.lr | learning_rate (train.yaml) |');
    expect(section('Maps one to one')).not.toContain('batch_size');
    expect(section('Converted')).toContain(
      '| train.batch_size | per_device_train_batch_size (train.yaml) | 16 = 2 × 1 × 8 \\| per device |',
    );
    expect(section('Not carried over')).toContain('| objective.few_shot | demos |');
    expect(section('Not carried over')).toContain('| train.lr_groups.0 | no per-part rate |');
    expect(section('Launch')).toContain(
      'NNODES=2 NODE_RANK=<0..1> MASTER_ADDR=<address of node 0> MASTER_PORT=29500 NPROC_PER_NODE=4 bash launch.sh',
    );
    expect(section('Bringing the result back')).toContain('mmft import <this folder>/output --out <dir>');
  });
});
