// The text-only records: {"text"} lines, instruction conversations without an image (LLaVA and
// sharegpt "conversations", OpenAI-style "messages"), read by the dataset and checked by the
// validator with file:line, --fix and split leakage as the image tasks are.
import * as fs from 'node:fs';
import * as path from 'node:path';
import { describe, expect, test } from '@jest/globals';
import { openJsonlDataset } from '../datasets/jsonl-dataset';
import { collect, dataDir, jsonl, writeData } from '../testing/fixtures';
import { validateFiles } from '../validate/validate';
import { detectTask } from './parse-record';

const RED = 'images/red.png';
const codes = (report: Awaited<ReturnType<typeof validateFiles>>) =>
  report.issues.map((i) => [i.line, i.code, i.field].filter((x) => x !== undefined));

describe('task detection', () => {
  test('"text" without an image is text; with an image it stays a retrieval pair; messages are instructions', () => {
    expect(detectTask({ text: 'a red circle' })).toBe('text');
    expect(detectTask({ image: RED, text: 'a red circle' })).toBe('retrieval');
    expect(detectTask({ text: 'a', neg_text: 'b' })).toBe('retrieval');
    expect(detectTask({ messages: [] })).toBe('instruction');
    expect(detectTask({ conversations: [] })).toBe('instruction');
  });
});

describe('text records', () => {
  test('read as text examples with id (given or file:line), lang and source; no image', async () => {
    const dir = dataDir();
    const lines = jsonl({ text: 'a red circle is left of a blue square.' }, { id: 7, text: '红色的圆形。', lang: 'zh' });
    const file = writeData(dir, 'lm.jsonl', lines);
    const data = await openJsonlDataset(file);
    expect(data.task).toBe('text');
    expect(await collect(data)).toEqual([
      { id: 'lm.jsonl:1', source: { file, line: 1 }, task: 'text', text: 'a red circle is left of a blue square.' },
      { id: '7', source: { file, line: 2 }, lang: 'zh', task: 'text', text: '红色的圆形。' },
    ]);
  });

  test('field errors are named by file:line in the reader and in the validator', async () => {
    const dir = dataDir();
    const file = writeData(
      dir,
      'bad.jsonl',
      jsonl({ text: 'fine' }, { text: 3 }, { text: '  ' }, { text: 'with a picture', image: RED }, { id: 'x' }, { text: 'fine again' }),
    );
    const reading = collect(await openJsonlDataset(file));
    await expect(reading).rejects.toThrow(`${file}:2: field "text" must be a string (the text), got a number`);
    const report = await validateFiles([file]);
    expect(codes(report)).toEqual([
      [2, 'wrong-type', 'text'],
      [3, 'empty-text', 'text'],
      [4, 'wrong-type', 'image'],
      [5, 'missing-field', 'text'],
    ]);
    expect(report.issues[2]!.message).toContain('is not allowed in a text record');
    expect(report.files[0]).toMatchObject({ task: 'text', lines: 6, records: 2, rejected: 4, images: { distinct: 0 } });
  });

  test('--fix keeps the good lines byte for byte and rejects the rest with reasons; duplicates are dropped', async () => {
    const dir = dataDir();
    const file = writeData(dir, 'fixme.jsonl', jsonl({ text: 'one' }, { text: 'one' }, { text: '' }, { text: 'two' }));
    const out = path.join(dir, 'clean.jsonl');
    const report = await validateFiles([file], { fix: out });
    expect(codes(report)).toEqual([
      [2, 'duplicate'],
      [3, 'empty-text', 'text'],
    ]);
    expect(report.issues[0]!.message).toBe('same text as line 1');
    expect(fs.readFileSync(out, 'utf8')).toBe(jsonl({ text: 'one' }, { text: 'two' }));
    const rejects = fs
      .readFileSync(`${out}.rejects.jsonl`, 'utf8')
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l));
    expect(rejects.map((r: { line: number }) => r.line)).toEqual([2, 3]);
  });

  test('the same text in two split files is leakage naming the first file and line', async () => {
    const dir = dataDir();
    const train = writeData(dir, 'train.jsonl', jsonl({ text: 'alpha' }, { text: 'beta' }));
    const val = writeData(dir, 'val.jsonl', jsonl({ text: 'gamma' }, { text: 'beta' }));
    const report = await validateFiles([train, val], { splits: true });
    expect(report.issues.map((i) => [i.file, i.line, i.code])).toEqual([[val, 2, 'leakage']]);
    expect(report.issues[0]!.message).toContain(`${train}:2`);
  });
});

describe('instruction records without an image', () => {
  test('LLaVA/sharegpt conversations and OpenAI messages read to turns; no <image> is added', async () => {
    const dir = dataDir();
    const file = writeData(
      dir,
      'chat.jsonl',
      jsonl(
        {
          id: 'sg',
          system: 'Answer briefly.',
          conversations: [
            { from: 'human', value: 'How many sides has a square?' },
            { from: 'gpt', value: 'Four.' },
          ],
        },
        {
          messages: [
            { role: 'system', content: 'Be brief.' },
            { role: 'user', content: '圆形有几条边？' },
            { role: 'assistant', content: '没有。' },
          ],
          lang: 'zh',
        },
        {
          image: RED,
          messages: [
            { role: 'user', content: 'What colour?' },
            { role: 'assistant', content: 'Red.' },
          ],
        },
      ),
    );
    const examples = await collect(await openJsonlDataset(file));
    expect(examples[0]).toEqual({
      id: 'sg',
      source: { file, line: 1 },
      task: 'instruction',
      turns: [
        { role: 'system', content: 'Answer briefly.' },
        { role: 'user', content: 'How many sides has a square?' },
        { role: 'assistant', content: 'Four.' },
      ],
    });
    expect(examples[1]).toMatchObject({
      lang: 'zh',
      turns: [
        { role: 'system', content: 'Be brief.' },
        { role: 'user', content: '圆形有几条边？' },
        { role: 'assistant', content: '没有。' },
      ],
    });
    expect(examples[1]!.image).toBeUndefined();
    // with an image, the placeholder leads the first user turn as LLaVA's preprocess_multimodal puts it
    expect(examples[2]).toMatchObject({
      image: { kind: 'file', path: path.join(dir, RED) },
      turns: [
        { role: 'user', content: '<image>\nWhat colour?' },
        { role: 'assistant', content: 'Red.' },
      ],
    });
    expect((await validateFiles([file])).errors).toBe(0);
  });

  test('bad conversations are named by line and field in both layouts', async () => {
    const dir = dataDir();
    const file = writeData(
      dir,
      'bad-chat.jsonl',
      jsonl(
        { messages: [{ role: 'assistant', content: 'Hi.' }] },
        {
          messages: [
            { role: 'user', content: 'Hi.' },
            { role: 'bot', content: 'Hello.' },
          ],
        },
        {
          messages: [
            { role: 'user', content: '<image>\nWhat is this?' },
            { role: 'assistant', content: 'A square.' },
          ],
        },
        {
          conversations: [
            { from: 'human', value: 'Hi.' },
            { from: 'gpt', value: 'Hello.' },
          ],
          messages: [],
        },
        {
          messages: [
            { role: 'user', content: 'Hi.' },
            { role: 'assistant', content: '' },
          ],
        },
        { messages: 'hello' },
        {
          messages: [
            { role: 'user', content: 'Fine.' },
            { role: 'assistant', content: 'Yes.' },
          ],
        },
        { conversations: [{ from: 'human', value: 'Only a question.' }] },
      ),
    );
    const report = await validateFiles([file], { task: 'instruction' });
    expect(codes(report)).toEqual([
      [1, 'bad-conversation', 'messages.0.role'],
      [2, 'wrong-type', 'messages.1.role'],
      [3, 'image-placeholders', 'messages'],
      [4, 'bad-conversation', 'messages'],
      [5, 'empty-text', 'messages.1.content'],
      [6, 'wrong-type', 'messages'],
      [8, 'bad-conversation', 'conversations'],
    ]);
    const messages = report.issues.map((i) => i.message);
    expect(messages[0]).toBe('field "messages.0.role" is "assistant" but "user" was expected: turns alternate user, assistant, ...');
    expect(messages[1]).toContain('must be "user", "assistant" or "system", got "bot"');
    expect(messages[2]).toBe(
      'field "messages" holds 1 "<image>" placeholder(s) but the record has no image; add the image, or remove the placeholder from a text-only conversation',
    );
    expect(messages[3]).toContain('conflicts with "conversations"');
    expect(messages[6]).toBe('field "conversations" has no "gpt" turn: nothing to learn from');
    await expect(collect(await openJsonlDataset(file))).rejects.toThrow(`${file}:1: field "messages.0.role" is "assistant"`);
  });
});
