// Interleaved documents ("segments" and the OBELICS parallel lists) read to core's InterleavedExample,
// and refused with the field path of what is wrong. Expected segments are written out by hand.
import * as path from 'node:path';
import { describe, expect, test } from '@jest/globals';
import { imagesOf, type InterleavedExample } from '@mmft/core';
import { openJsonlDataset } from '../datasets/jsonl-dataset';
import { collect, dataDir, jsonl, writeData } from '../testing/fixtures';
import { checkRecord, detectTask } from './parse-record';

const RED_PNG_DATA_URL =
  'data:image/png;base64,iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mP8z8DwHwAFBQIAX8jx0gAAAABJRU5ErkJggg==';

describe('interleaved records', () => {
  test('segments and the OBELICS layout give the same example, images resolved in reading order', async () => {
    const dir = dataDir();
    const file = writeData(
      dir,
      'docs.jsonl',
      jsonl(
        {
          id: 'seg',
          lang: 'en',
          segments: [{ image: 'images/red.png' }, { text: 'A red square.' }, { image: 'images/blue.png' }, { text: 'A blue one.' }],
        },
        {
          id: 'obelics',
          images: ['images/red.png', null, 'images/blue.png', null],
          texts: [null, 'A red square.', null, 'A blue one.'],
          metadata: '[]',
          general_metadata: '{}',
        },
      ),
    );
    const data = await openJsonlDataset(file);
    expect(data.task).toBe('interleaved');
    const [a, b] = (await collect(data)) as InterleavedExample[];
    const red = { kind: 'file', path: path.join(dir, 'images/red.png') };
    const blue = { kind: 'file', path: path.join(dir, 'images/blue.png') };
    const segments = [{ image: red }, { text: 'A red square.' }, { image: blue }, { text: 'A blue one.' }];
    expect(a).toEqual({ id: 'seg', lang: 'en', task: 'interleaved', segments, source: { file, line: 1 } });
    expect(b).toEqual({ id: 'obelics', task: 'interleaved', segments, source: { file, line: 2 } });
    expect(imagesOf(a!)).toEqual([red, blue]);
    expect('image' in a!).toBe(false);
  });

  test('training refuses a bad document naming file, line and segment', async () => {
    const dir = dataDir();
    const file = writeData(
      dir,
      'bad.jsonl',
      jsonl({ segments: [{ image: 'images/red.png' }, { text: 'fine' }] }, { segments: [{ image: 'images/red.png' }, { text: ' ' }] }),
    );
    const data = await openJsonlDataset(file, { task: 'interleaved' });
    await expect(collect(data)).rejects.toThrow(`${file}:2: field "segments.1.text" is empty (a text segment)`);
  });

  test('data URLs and file:// URLs are images too; a text-only document has no image', () => {
    const dir = dataDir();
    // A file:// URL is an absolute path: accepted only with allowOutsideRoot, as any absolute path (image-path.ts).
    const ctx = { file: path.join(dir, 'd.jsonl'), line: 7, policy: { baseDir: dir, allowOutsideRoot: true } };
    const record = {
      segments: [
        { text: 'Look:' },
        { image: RED_PNG_DATA_URL },
        { image: `file://${path.join(dir, 'images/green.png')}` },
        { text: 'two images.' },
      ],
    };
    const checked = checkRecord('interleaved', record, ctx);
    if (!checked.ok) throw new Error(JSON.stringify(checked.issues));
    expect(checked.images.map((i) => [i.field, i.ref.kind])).toEqual([
      ['segments.1.image', 'bytes'],
      ['segments.2.image', 'file'],
    ]);
    expect(checked.images[1]!.path).toBe(path.join(dir, 'images/green.png'));
    expect(checked.view.example.id).toBe('d.jsonl:7');
    expect(checked.view.texts).toEqual(['Look:', 'two images.']);
    const textOnly = checkRecord('interleaved', { segments: [{ text: 'only words' }] }, ctx);
    expect(textOnly.ok && textOnly.images).toEqual([]);
  });

  test('detection: segments, or images + texts without conversation keys', () => {
    expect(detectTask({ segments: [] })).toBe('interleaved');
    expect(detectTask({ images: [], texts: [] })).toBe('interleaved');
    expect(detectTask({ images: ['a.png'], messages: [] })).toBe('instruction');
    expect(detectTask({ text: 'x' })).toBe('text');
  });

  test.each([
    [{ segments: [{ image: 'images/red.png', text: 'both' }, { text: 'x' }] }, 'wrong-type', 'segments.0'],
    [{ segments: [{ caption: 'x' }] }, 'missing-field', 'segments.0'],
    [{ segments: [{ text: 'x' }, { text: '  ' }] }, 'empty-text', 'segments.1.text'],
    [{ segments: [{ text: 'x' }, { image: 3 }] }, 'wrong-type', 'segments.1.image'],
    [{ segments: [{ text: 'see <image> here' }] }, 'image-placeholders', 'segments.0.text'],
    [{ segments: [{ image: 'images/red.png' }] }, 'missing-field', 'segments'],
    [{ segments: 'text' }, 'wrong-type', 'segments'],
    [{ segments: [{ text: 'x' }], texts: [] }, 'wrong-type', 'texts'],
    [{ images: ['images/red.png', null], texts: [null] }, 'wrong-type', 'texts'],
    [{ images: ['images/red.png', 'images/red.png'], texts: ['a', null] }, 'wrong-type', 'texts.0'],
    [{ images: [null, null], texts: ['a', null] }, 'missing-field', 'texts.1'],
    [{ images: [null], texts: [5] }, 'wrong-type', 'texts.0'],
    [{ images: ['a.png'] }, 'missing-field', 'texts'],
  ])('refused: %j → %s at %s', (record, code, field) => {
    const dir = dataDir();
    const checked = checkRecord('interleaved', record, { file: path.join(dir, 'd.jsonl'), line: 1, policy: { baseDir: dir } });
    expect(checked.ok).toBe(false);
    if (checked.ok) return;
    expect(checked.issues.map((i) => [i.code, i.field])).toContainEqual([code, field]);
  });

  test('an image outside the data folder is refused at its segment', () => {
    const dir = dataDir();
    const checked = checkRecord(
      'interleaved',
      { segments: [{ text: 'x' }, { image: 'images/red.png' }, { image: '../escape.png' }] },
      { file: path.join(dir, 'd.jsonl'), line: 1, policy: { baseDir: dir } },
    );
    expect(checked.ok ? [] : checked.issues.map((i) => [i.code, i.field])).toEqual([['image-outside-root', 'segments.2.image']]);
  });
});
