// The conversation data people hold, read to instruction examples and validated: LLaVA JSON arrays,
// LLaMA-Factory sharegpt through dataset_info.json, ms-swift messages + images, OpenAI image parts.
// Expected lines, element indices, turns and image bytes are written out by hand from the fixtures.
import * as fs from 'node:fs';
import * as path from 'node:path';
import { describe, expect, test } from '@jest/globals';
import type { InstructionExample } from '@mmft/core';
import { openJsonlDataset } from '../datasets/jsonl-dataset';
import { readJsonArray } from '../io/json-array';
import { splitFile } from '../split/split';
import { collect, dataDir, jsonl, writeData } from '../testing/fixtures';
import { formatIssue } from '../validate/messages';
import { validateFiles } from '../validate/validate';

const codes = (report: Awaited<ReturnType<typeof validateFiles>>) =>
  report.issues.map((i) => [i.line, i.element, i.code, i.field].filter((x) => x !== undefined));
const turnsOf = (examples: unknown[]) => (examples as InstructionExample[]).map((e) => e.turns);

// A pretty-printed LLaVA file: element 0 starts on line 2, element 1 on line 10, element 2 on line 17.
const LLAVA = `[
  {
    "id": "a",
    "image": "images/red.png",
    "conversations": [
      {"from": "human", "value": "What is [this] \\"thing\\"?\\n<image>"},
      {"from": "gpt", "value": "A red square, {surely}."}
    ]
  },
  {
    "image": "images/green.png",
    "conversations": [
      {"from": "human", "value": "Describe it."},
      {"from": "gpt", "value": "Green."}
    ]
  },
  {"conversations": [{"from": "human", "value": "Hi"}, {"from": "gpt", "value": "Hello"}]}
]
`;

describe('JSON array files (LLaVA)', () => {
  test('the scanner finds each element, its first line and bytes, through strings holding brackets and quotes', async () => {
    const dir = dataDir();
    const file = writeData(dir, 'llava.json', `\uFEFF${LLAVA}`);
    const elements = [];
    for await (const e of readJsonArray(file)) elements.push(e);
    expect(elements.map((e) => [e.index, e.line, e.problem])).toEqual([
      [0, 2, undefined],
      [1, 10, undefined],
      [2, 17, undefined],
    ]);
    const parsed = elements.map((e) => JSON.parse(Buffer.from(e.bytes).toString('utf8')));
    expect(parsed).toEqual(JSON.parse(LLAVA));
  });

  test('elements that straddle the 1 MiB read chunks come back whole, with their lines', async () => {
    const dir = dataDir();
    const long = 'x'.repeat(1_500_000) + '"]{},';
    const records = [
      { id: 'a', text: long },
      { id: 'b', text: 'short' },
      { id: 'c', text: long },
    ];
    const file = writeData(dir, 'big.json', `[\n${records.map((r) => JSON.stringify(r)).join(',\n')}\n]\n`);
    const elements = [];
    for await (const e of readJsonArray(file)) elements.push(e);
    expect(elements.map((e) => [e.index, e.line, e.problem])).toEqual([
      [0, 2, undefined],
      [1, 3, undefined],
      [2, 4, undefined],
    ]);
    expect(elements.map((e) => JSON.parse(Buffer.from(e.bytes).toString('utf8')))).toEqual(records);
  });

  test('the dataset reads elements to turns; the image placeholder is kept where written or put first', async () => {
    const dir = dataDir();
    const file = writeData(dir, 'llava.json', LLAVA);
    const data = await openJsonlDataset(file);
    expect(data.task).toBe('instruction');
    const examples = await collect(data);
    expect(examples.map((e) => [e.id, e.source?.line, e.image])).toEqual([
      ['a', 2, { kind: 'file', path: path.join(dir, 'images/red.png') }],
      ['llava.json[1]', 10, { kind: 'file', path: path.join(dir, 'images/green.png') }],
      ['llava.json[2]', 17, undefined],
    ]);
    expect(turnsOf(examples)).toEqual([
      [
        { role: 'user', content: 'What is [this] "thing"?\n<image>' },
        { role: 'assistant', content: 'A red square, {surely}.' },
      ],
      [
        { role: 'user', content: '<image>\nDescribe it.' },
        { role: 'assistant', content: 'Green.' },
      ],
      [
        { role: 'user', content: 'Hi' },
        { role: 'assistant', content: 'Hello' },
      ],
    ]);
    // Shuffled epochs read elements by position, as JSONL lines.
    const shuffled = await collect(data, { shuffle: true, seed: 3 });
    expect(shuffled.map((e) => e.id).sort()).toEqual(examples.map((e) => e.id).sort());
  });

  test('validate names file:line (element i) for record errors and structural faults; --fix writes JSONL', async () => {
    const dir = dataDir();
    const text = [
      '[',
      '  {"image": "images/red.png", "conversations": [{"from": "human", "value": "<image>Q"}, {"from": "gpt", "value": "A"}]},',
      '  {"image": "images/missing.png",',
      '   "conversations": [{"from": "human", "value": "Q"}, {"from": "gpt", "value": "A"}]},',
      '  {"conversations": [{"from": "gpt", "value": "A"}]},',
      '  ,',
      '  [1],',
      '  {"image": "images/blue.png", "conversations": [{"from": "human", "value": "Q"}, {"from": "gpt", "value": "A"}]}',
      '',
    ].join('\n');
    const file = writeData(dir, 'mix.json', text);
    const report = await validateFiles([file], { fix: path.join(dir, 'clean.jsonl') });
    expect(codes(report)).toEqual([
      [3, 1, 'image-missing', 'image'],
      [5, 2, 'bad-conversation', 'conversations.0.from'],
      [6, 3, 'invalid-json'],
      [7, 4, 'not-object'],
      [8, 5, 'invalid-json'],
    ]);
    expect(formatIssue(report.issues[0]!)).toMatch(
      /^.*mix\.json:3 \(element 1\): error \[image-missing\] image .*missing\.png does not exist/,
    );
    expect(report.issues[2]!.message).toBe('empty element (two commas in a row, or a comma right after "[")');
    expect(report.issues[3]!.message).toBe('each element must be one JSON object, got an array');
    // The element before the missing "]" is the one reported, not checked further.
    expect(report.issues[4]!.message).toBe('the array is not closed with "]" (was the file truncated?)');
    expect(report.fix).toMatchObject({ kept: 1, dropped: 5 });
    const kept = fs.readFileSync(path.join(dir, 'clean.jsonl'), 'utf8');
    expect(kept.split('\n').map((l) => (l ? JSON.parse(l) : l))).toEqual([
      {
        image: 'images/red.png',
        conversations: [
          { from: 'human', value: '<image>Q' },
          { from: 'gpt', value: 'A' },
        ],
      },
      '',
    ]);
    await expect(openJsonlDataset(file)).rejects.toThrow(`${file}:6 (element 3): empty element`);
  });

  test('split writes the elements of a JSON array as JSONL parts, each record once, each part valid', async () => {
    const dir = dataDir();
    const file = writeData(dir, 'llava.json', LLAVA);
    const result = await splitFile(file, { ratios: [0.5, 0.5, 0], seed: 1 });
    expect(result.outputs.map((o) => path.basename(o.file))).toEqual(['llava.train.jsonl', 'llava.val.jsonl']);
    const written = result.outputs.flatMap((o) =>
      fs
        .readFileSync(o.file, 'utf8')
        .split('\n')
        .filter(Boolean)
        .map((l) => JSON.parse(l)),
    );
    const key = (r: unknown) => JSON.stringify(r);
    expect(written.map(key).sort()).toEqual((JSON.parse(LLAVA) as unknown[]).map(key).sort());
    for (const o of result.outputs.filter((o) => o.records > 0)) expect((await validateFiles([o.file])).errors).toBe(0);
  });

  test('a trailing comma and text after "]" are reported, not skipped', async () => {
    const dir = dataDir();
    const one = '{"conversations": [{"from": "human", "value": "Q"}, {"from": "gpt", "value": "A"}]}';
    const file = writeData(dir, 'tail.json', `[${one},\n]\n{}\n`);
    const report = await validateFiles([file]);
    expect(codes(report)).toEqual([
      [2, 1, 'invalid-json'],
      [3, 2, 'invalid-json'],
    ]);
    expect(report.issues.map((i) => i.message)).toEqual([
      'trailing comma before "]" (JSON allows none)',
      'text after the closing "]" of the array; a file holds one array',
    ]);
    expect(report.files[0]).toMatchObject({ records: 1, rejected: 2 });
  });
});

describe('LLaMA-Factory sharegpt through dataset_info.json', () => {
  const info = {
    mllm_demo: {
      file_name: 'mllm.json',
      formatting: 'sharegpt',
      columns: { messages: 'messages', images: 'images', system: 'sys' },
      tags: { role_tag: 'role', content_tag: 'content', user_tag: 'user', assistant_tag: 'assistant' },
    },
    plain_sharegpt: { file_name: 'sg.jsonl', formatting: 'sharegpt', columns: { messages: 'conversations', images: 'images' } },
    alpaca_set: { file_name: 'alpaca.json' },
    hub_set: { hf_hub_url: 'someone/data', formatting: 'sharegpt' },
  };
  const setup = () => {
    const dir = dataDir();
    writeData(dir, 'dataset_info.json', JSON.stringify(info, null, 2));
    writeData(
      dir,
      'mllm.json',
      JSON.stringify([
        {
          sys: 'Be brief.',
          messages: [
            { role: 'user', content: 'Who are they?<image>' },
            { role: 'assistant', content: 'Players.' },
            { role: 'user', content: 'Doing what?' },
            { role: 'assistant', content: 'Celebrating.' },
          ],
          images: ['images/red.png'],
        },
      ]),
    );
    writeData(
      dir,
      'sg.jsonl',
      jsonl(
        {
          conversations: [
            { from: 'human', value: '<image>Q' },
            { from: 'gpt', value: 'A' },
          ],
          images: 'images/blue.png',
        },
        {
          conversations: [
            { from: 'human', value: '<image>Q' },
            { from: 'gpt', value: 'A' },
          ],
          images: [],
        },
        {
          conversations: [
            { from: 'human', value: 'Q' },
            { from: 'observation', value: 'tool out' },
          ],
        },
        {
          conversations: [
            { from: 'human', value: 'Q' },
            { from: 'gpt', value: '' },
          ],
          images: ['images/red.png'],
        },
        {
          conversations: [
            { role: 'user', content: 'Q' },
            { role: 'assistant', content: 'A' },
          ],
        },
      ),
    );
    return dir;
  };

  test('an entry is read with its columns and tags (recipe "name" or "#name")', async () => {
    const dir = setup();
    const data = await openJsonlDataset(path.join(dir, 'dataset_info.json'), { name: 'mllm_demo' });
    const examples = await collect(data);
    expect(examples).toEqual([
      {
        task: 'instruction',
        id: 'mllm.json[0]',
        image: { kind: 'file', path: path.join(dir, 'images/red.png') },
        source: { file: path.join(dir, 'mllm.json'), line: 1 },
        turns: [
          { role: 'system', content: 'Be brief.' },
          { role: 'user', content: 'Who are they?<image>' },
          { role: 'assistant', content: 'Players.' },
          { role: 'user', content: 'Doing what?' },
          { role: 'assistant', content: 'Celebrating.' },
        ],
      },
    ]);
    const report = await validateFiles(['dataset_info.json#mllm_demo'], { cwd: dir });
    expect(report.errors).toBe(0);
    expect(report.files[0]).toMatchObject({ file: 'mllm.json', task: 'instruction', records: 1 });
  });

  test('placeholder/image counts, tool turns, empty turns and wrong tags are reported by line and field', async () => {
    const dir = setup();
    const report = await validateFiles(['dataset_info.json#plain_sharegpt'], { cwd: dir });
    expect(codes(report)).toEqual([
      [2, 'image-placeholders', 'conversations'],
      [3, 'bad-conversation', 'conversations.1.from'],
      [4, 'empty-text', 'conversations.1.value'],
      [5, 'missing-field', 'conversations.0.from'],
      [5, 'missing-field', 'conversations.0.value'],
      [5, 'missing-field', 'conversations.1.from'],
      [5, 'missing-field', 'conversations.1.value'],
    ]);
    expect(report.issues[0]!.file).toBe('sg.jsonl');
    expect(report.issues[1]!.message).toBe(
      'field "conversations.1.from" is "observation": tool and function-call turns are not supported; keep "human", "gpt" or "system" turns only',
    );
    // Line 1's lone string is one image, as LLaMA-Factory's _find_medias wraps it.
    const good = report.files[0]!;
    expect(good).toMatchObject({ records: 1, rejected: 4 });
  });

  test('entries mmft cannot read fail naming the entry and the fix', async () => {
    const dir = setup();
    const at = (name: string) => openJsonlDataset(path.join(dir, `dataset_info.json#${name}`));
    await expect(at('nope')).rejects.toThrow('has no entry "nope"');
    await expect(at('alpaca_set')).rejects.toThrow('has "formatting": "alpaca"; mmft reads sharegpt entries');
    await expect(at('hub_set')).rejects.toThrow('names no local "file_name" (it reads "hf_hub_url")');
    await expect(openJsonlDataset(path.join(dir, 'dataset_info.json'))).rejects.toMatchObject({
      hint: expect.stringContaining('entries: mllm_demo, plain_sharegpt, alpaca_set, hub_set'),
    });
  });
});

describe('ms-swift messages + images and OpenAI image parts', () => {
  test('images lists, data URLs and file paths become the example image; parts become "<image>" in place', async () => {
    const dir = dataDir();
    const red = fs.readFileSync(path.join(dir, 'images/red.png'));
    const dataUrl = `data:image/png;base64,${red.toString('base64')}`;
    const file = writeData(
      dir,
      'chat.jsonl',
      jsonl(
        {
          messages: [
            { role: 'user', content: '<image>Colour?' },
            { role: 'assistant', content: 'Red.' },
          ],
          images: ['images/red.png'],
        },
        {
          messages: [
            { role: 'system', content: 'Be brief.' },
            {
              role: 'user',
              content: [
                { type: 'text', text: 'Look: ' },
                { type: 'image_url', image_url: { url: dataUrl } },
                { type: 'text', text: ' colour?' },
              ],
            },
            { role: 'assistant', content: 'Red.' },
          ],
        },
        {
          messages: [
            {
              role: 'user',
              content: [
                { type: 'image_url', image_url: 'images/green.png' },
                { type: 'text', text: 'Colour?' },
              ],
            },
            { role: 'assistant', content: [{ type: 'text', text: 'Green.' }] },
          ],
        },
      ),
    );
    const report = await validateFiles([file]);
    expect(report.issues).toEqual([]);
    const examples = await collect(await openJsonlDataset(file));
    expect(examples[0]!.image).toEqual({ kind: 'file', path: path.join(dir, 'images/red.png') });
    const bytesImage = examples[1]!.image as { kind: string; bytes: Uint8Array; format: string };
    expect(bytesImage.kind).toBe('bytes');
    expect(bytesImage.format).toBe('png');
    expect(Buffer.from(bytesImage.bytes).equals(red)).toBe(true);
    expect(examples[2]!.image).toEqual({ kind: 'file', path: path.join(dir, 'images/green.png') });
    expect(turnsOf(examples)).toEqual([
      [
        { role: 'user', content: '<image>Colour?' },
        { role: 'assistant', content: 'Red.' },
      ],
      [
        { role: 'system', content: 'Be brief.' },
        { role: 'user', content: 'Look: <image> colour?' },
        { role: 'assistant', content: 'Red.' },
      ],
      [
        { role: 'user', content: '<image>Colour?' },
        { role: 'assistant', content: 'Green.' },
      ],
    ]);
  });

  test('two images for one placeholder, an answer holding <image>, a bad data URL, a missing file and a bad part are each reported', async () => {
    const dir = dataDir();
    const file = writeData(
      dir,
      'bad-chat.jsonl',
      jsonl(
        {
          messages: [
            { role: 'user', content: '<image>Q' },
            { role: 'assistant', content: 'A' },
          ],
          images: ['images/red.png', 'images/blue.png'],
        },
        {
          messages: [
            { role: 'user', content: 'Q' },
            { role: 'assistant', content: 'See <image>.' },
          ],
          images: ['images/red.png'],
        },
        {
          messages: [
            { role: 'user', content: [{ type: 'image_url', image_url: { url: 'data:image/png;base64,AAAA' } }] },
            { role: 'assistant', content: 'A' },
          ],
        },
        {
          messages: [
            { role: 'user', content: [{ type: 'image_url', image_url: { url: 'images/none.png' } }] },
            { role: 'assistant', content: 'A' },
          ],
        },
        {
          messages: [
            { role: 'user', content: [{ type: 'audio', audio: 'x.wav' }] },
            { role: 'assistant', content: 'A' },
          ],
        },
        {
          messages: [
            { role: 'user', content: 'Q' },
            { role: 'assistant', content: 'A' },
          ],
          images: ['images/red.png'],
          image: 'images/red.png',
        },
        {
          messages: [
            { role: 'user', content: 'Q' },
            { role: 'assistant', content: 'A' },
          ],
          images: ['images/none.png'],
        },
      ),
    );
    const report = await validateFiles([file]);
    expect(codes(report)).toEqual([
      [1, 'image-placeholders', 'messages'],
      [2, 'image-placeholders', 'messages.1'],
      [3, 'image-corrupt', 'messages.0.content.0.image_url.url'],
      [4, 'image-missing', 'messages.0.content.0.image_url.url'],
      [5, 'wrong-type', 'messages.0.content.0.type'],
      [6, 'wrong-type', 'images'],
      [7, 'image-missing', 'images.0'],
    ]);
    expect(report.issues[0]!.message).toContain('holds 1 "<image>" placeholder(s) for 2 images');
    expect(report.issues[1]!.message).toContain('is an assistant turn holding "<image>"');
    expect(report.issues[2]!.message).toMatch(/^the data URL image does not decode/);
  });
});
