// Records with several images (interleaved documents, multi-image conversations) through the
// dataset reader, `mmft data validate`, --fix and split: every image is resolved, checked, counted
// and moved, not only the first. Expected values are written out by hand from the fixtures.
import * as fs from 'node:fs';
import * as path from 'node:path';
import { describe, expect, test } from '@jest/globals';
import sharp from 'sharp';
import { imagesOf, type InstructionExample } from '@mmft/core';
import { openJsonlDataset } from '../datasets/jsonl-dataset';
import { relocateImageFields } from '../records/image-path';
import { splitFile } from '../split/split';
import { collect, dataDir, jsonl, writeData } from '../testing/fixtures';
import { readExifPrivacy } from './exif';
import { formatIssue } from './messages';
import { formatReport, formatStats } from './report';
import { validateFiles } from './validate';

const codes = (report: Awaited<ReturnType<typeof validateFiles>>) =>
  report.issues.map((i) => [i.line, i.code, i.field].filter((x) => x !== undefined));

const doc = (...names: string[]) => ({
  segments: names.flatMap((n, i) => [{ image: `images/${n}` }, { text: `picture ${i}` }]),
});

describe('multi-image conversations', () => {
  test('sharegpt images, LLaVA-NeXT image lists and OpenAI image parts give every image in <image> order', async () => {
    const dir = dataDir();
    const file = writeData(
      dir,
      'chat.jsonl',
      jsonl(
        {
          id: 'sharegpt',
          messages: [
            { role: 'user', content: '<image>then<image>: same?' },
            { role: 'assistant', content: 'No.' },
          ],
          images: ['images/red.png', 'images/blue.png'],
        },
        {
          id: 'llava',
          image: ['images/green.png', 'images/red.png'],
          conversations: [
            { from: 'human', value: '<image>\n<image>\nCompare.' },
            { from: 'gpt', value: 'Green, red.' },
          ],
        },
        {
          id: 'openai',
          messages: [
            {
              role: 'user',
              content: [
                { type: 'image_url', image_url: { url: 'images/blue.png' } },
                { type: 'text', text: ' and ' },
                { type: 'image_url', image_url: 'images/green.png' },
              ],
            },
            { role: 'assistant', content: 'Blue and green.' },
          ],
        },
        {
          id: 'one',
          messages: [
            { role: 'user', content: 'What?' },
            { role: 'assistant', content: 'Red.' },
          ],
          images: ['images/red.png'],
        },
      ),
    );
    const examples = (await collect(await openJsonlDataset(file))) as InstructionExample[];
    const ref = (n: string) => ({ kind: 'file', path: path.join(dir, 'images', n) });
    expect(examples.map((e) => [e.id, e.image, e.images])).toEqual([
      ['sharegpt', ref('red.png'), [ref('red.png'), ref('blue.png')]],
      ['llava', ref('green.png'), [ref('green.png'), ref('red.png')]],
      ['openai', ref('blue.png'), [ref('blue.png'), ref('green.png')]],
      // one image: `images` stays absent (core's contract), the placeholder is put first
      ['one', ref('red.png'), undefined],
    ]);
    expect(examples[2]!.turns[0]!.content).toBe('<image> and <image>');
    expect(examples[3]!.turns[0]!.content).toBe('<image>\nWhat?');
    expect(imagesOf(examples[1]!)).toEqual([ref('green.png'), ref('red.png')]);
    expect((await validateFiles([file])).errors).toBe(0);
  });

  test('placeholders must match the images one to one', async () => {
    const dir = dataDir();
    const chat = (content: string, images: string[]) => ({
      messages: [
        { role: 'user', content },
        { role: 'assistant', content: 'A' },
      ],
      images,
    });
    const file = writeData(
      dir,
      'bad.jsonl',
      jsonl(
        chat('Q', ['images/red.png', 'images/blue.png']),
        chat('<image><image><image>Q', ['images/red.png', 'images/blue.png']),
        chat('<image><image>Q', ['images/red.png']),
      ),
    );
    const report = await validateFiles([file]);
    expect(codes(report)).toEqual([
      [1, 'image-placeholders', 'messages'],
      [2, 'image-placeholders', 'messages'],
      [3, 'image-placeholders', 'messages'],
    ]);
    expect(report.issues[0]!.message).toContain('holds 0 "<image>" placeholder(s) for 2 images');
    expect(report.issues[1]!.message).toContain('holds 3 "<image>" placeholder(s) for 2 images');
    expect(report.issues[2]!.message).toContain('holds 2 "<image>" placeholders for 1 image');
  });
});

describe('validating interleaved documents', () => {
  test('every image is checked and named by its segment; texts are checked for personal data', async () => {
    const dir = dataDir();
    const file = writeData(
      dir,
      'docs.jsonl',
      jsonl(
        doc('red.png', 'blue.png'),
        doc('red.png', 'corrupt.png', 'nope.png'),
        { segments: [{ text: 'write to ann@example.org' }, { image: 'images/green.png' }] },
        { images: ['images/red.png', null, '../outside.png'], texts: [null, 'x', null] },
      ),
    );
    const report = await validateFiles([file]);
    expect(codes(report)).toEqual([
      [2, 'image-corrupt', 'segments.2.image'],
      [2, 'image-missing', 'segments.4.image'],
      [3, 'personal-data', 'segments.0.text'],
      [4, 'image-outside-root', 'images.2'],
    ]);
    expect(formatIssue(report.issues[1]!)).toMatch(
      /docs\.jsonl:2: error \[image-missing\] field "segments\.4\.image": image .*nope\.png does not exist/,
    );
    expect(report.files[0]).toMatchObject({ task: 'interleaved', lines: 4, records: 2, rejected: 2 });
    // Kept records 1 and 3 hold red, blue and green: three distinct images; 2 and 1 images per record.
    expect(report.files[0]!.images.distinct).toBe(3);
    expect(report.files[0]!.imagesPerRecord).toMatchObject({ min: 1, max: 2, mean: 1.5 });
    expect(formatStats(report.files)).toContain(`${file}: images per record min/p50/p95/max 1/1/2/2`);
    expect(formatReport(report)).toContain(`${file}: images per record min/p50/p95/max 1/1/2/2`);
  });

  test('a document repeating an earlier one is a duplicate; the same images in another order are not', async () => {
    const dir = dataDir();
    const file = writeData(dir, 'dup.jsonl', jsonl(doc('red.png', 'blue.png'), doc('red.png', 'blue.png'), doc('blue.png', 'red.png')));
    expect(codes(await validateFiles([file]))).toEqual([[2, 'duplicate']]);
  });

  test('an image shared by documents in two split files is leakage, even beside other images', async () => {
    const dir = dataDir();
    const train = writeData(dir, 'train.jsonl', jsonl(doc('red.png', 'blue.png')));
    const val = writeData(dir, 'val.jsonl', jsonl(doc('green.png', 'blue.png')));
    expect(codes(await validateFiles([train, val], { splits: true }))).toEqual([[1, 'leakage', 'image']]);
  });

  test('--fix and split into another folder rewrite every image path, so the copies validate and read', async () => {
    const dir = dataDir();
    const sub = path.join(dir, 'sub');
    fs.mkdirSync(sub);
    fs.renameSync(path.join(dir, 'images'), path.join(sub, 'images'));
    const file = writeData(sub, 'in.jsonl', jsonl(doc('red.png', 'blue.png'), doc('green.png', 'yellow.jpg')));
    const out = path.join(dir, 'clean.jsonl');
    await validateFiles([file], { fix: out });
    const lines = fs
      .readFileSync(out, 'utf8')
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l));
    expect(lines[0].segments.map((s: { image?: string }) => s.image).filter(Boolean)).toEqual([
      'sub/images/red.png',
      'sub/images/blue.png',
    ]);
    expect(lines[1].segments[2]).toEqual({ image: 'sub/images/yellow.jpg' });
    expect((await validateFiles([out])).errors).toBe(0);
    expect(await collect(await openJsonlDataset(out))).toHaveLength(2);

    const parts = await splitFile(file, { ratios: [0.5, 0.5, 0], seed: 3, outDir: dir });
    const written = parts.outputs.flatMap((o) => fs.readFileSync(o.file, 'utf8').trim().split('\n'));
    expect(written.map((l) => JSON.parse(l).segments[0].image).sort()).toEqual(['sub/images/green.png', 'sub/images/red.png']);
    expect(written.map((l) => JSON.parse(l).segments[2].image).sort()).toEqual(['sub/images/blue.png', 'sub/images/yellow.jpg']);
  });

  test('split keeps documents that share any image in one split (chains included), so the splits validate without leakage', async () => {
    const dir = dataDir();
    // 1–2 share blue, 2–3 share green: one group of three; 4 and 5 stand alone.
    const file = writeData(
      dir,
      'docs.jsonl',
      jsonl(doc('red.png', 'blue.png'), doc('blue.png', 'green.png'), doc('green.png'), doc('yellow.jpg'), {
        segments: [{ text: 'words only' }],
      }),
    );
    for (const seed of [0, 1, 2, 3]) {
      const { outputs } = await splitFile(file, { ratios: [0.5, 0.5, 0], seed, force: true });
      const linesOf = (f: string) =>
        fs
          .readFileSync(f, 'utf8')
          .trim()
          .split('\n')
          .map((l) => JSON.parse(l).segments[0].image ?? 'text');
      const parts = outputs.map((o) => linesOf(o.file));
      const together = parts.find((p) => p.includes('images/red.png'))!;
      expect([seed, together.includes('images/blue.png') && together.includes('images/green.png')]).toEqual([seed, true]);
      expect(parts.flat().sort()).toEqual(['images/blue.png', 'images/green.png', 'images/red.png', 'images/yellow.jpg', 'text']);
      expect(outputs.map((o) => o.records).reduce((a, b) => a + b)).toBe(5);
      expect(outputs.map((o) => o.images).reduce((a, b) => a + b)).toBe(3);
      expect(
        (
          await validateFiles(
            outputs.map((o) => o.file),
            { splits: true },
          )
        ).errors,
      ).toBe(0);
    }
  });

  test('relocateImageFields rewrites each listed field, copying along the path and leaving the input alone', () => {
    const record = { images: ['a.png', 'b.png'], messages: [{ content: [{ image_url: { url: 'c.png' } }] }], keep: { x: 1 } };
    const before = JSON.stringify(record);
    const out = relocateImageFields(
      record,
      [
        { field: 'images.1', path: '/d/b.png' },
        { field: 'messages.0.content.0.image_url.url', path: '/d/c.png' },
        { field: 'missing.0', path: '/d/z.png' },
      ],
      (original, resolved) => `${original}@${resolved}`,
    );
    expect(out).toEqual({
      images: ['a.png', 'b.png@/d/b.png'],
      messages: [{ content: [{ image_url: { url: 'c.png@/d/c.png' } }] }],
      keep: { x: 1 },
    });
    expect(JSON.stringify(record)).toBe(before);
    expect(out!.keep).toBe(record.keep);
    expect(relocateImageFields(record, [{ field: 'nothing', path: '/d/a.png' }], (o) => o)).toBeUndefined();
  });

  test('--fix --redact-pii strips the metadata of every image of a document, not only the first', async () => {
    const dir = dataDir();
    // Two JPEGs carrying a GPS position (sharp's EXIF writer), as privacy.test.ts makes one.
    for (const [name, colour] of [
      ['gps1.jpg', '#3a7'],
      ['gps2.jpg', '#a37'],
    ] as const) {
      await sharp({ create: { width: 8, height: 6, channels: 3, background: colour } })
        .jpeg()
        .withExif({
          IFD3: { GPSLatitudeRef: 'N', GPSLatitude: '31/1 14/1 1500/100', GPSLongitudeRef: 'E', GPSLongitude: '121/1 28/1 3000/100' },
        })
        .toFile(path.join(dir, 'images', name));
    }
    const file = writeData(dir, 'docs.jsonl', jsonl(doc('gps1.jpg', 'red.png', 'gps2.jpg')));
    const out = path.join(dir, 'clean.jsonl');
    const report = await validateFiles([file], { fix: out, redactPii: true });
    expect(codes(report)).toEqual([
      [1, 'image-metadata', 'segments.0.image'],
      [1, 'image-metadata', 'segments.4.image'],
    ]);
    const [kept] = fs
      .readFileSync(out, 'utf8')
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l));
    const images: string[] = kept.segments.flatMap((s: { image?: string }) => (s.image ? [s.image] : []));
    expect(images[0]).toMatch(/^clean\.images\/[0-9a-f]{12}-gps1\.jpg$/);
    expect(images[1]).toBe('images/red.png');
    expect(images[2]).toMatch(/^clean\.images\/[0-9a-f]{12}-gps2\.jpg$/);
    for (const copy of [images[0]!, images[2]!]) {
      const { exif } = await sharp(path.join(dir, copy)).metadata();
      expect(exif === undefined ? { gps: false, identifying: [] } : readExifPrivacy(exif)).toEqual({ gps: false, identifying: [] });
    }
    const changes = fs
      .readFileSync(`${out}.changes.jsonl`, 'utf8')
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l));
    expect(changes.map((c) => [c.field, c.action, c.from])).toEqual([
      ['segments.0.image', 'metadata-stripped', 'images/gps1.jpg'],
      ['segments.4.image', 'metadata-stripped', 'images/gps2.jpg'],
    ]);
    expect((await validateFiles([out])).errors).toBe(0);
  });
});
