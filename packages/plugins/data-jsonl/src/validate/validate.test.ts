import * as fs from 'node:fs';
import * as path from 'node:path';
import { describe, expect, test } from '@jest/globals';
import { openJsonlDataset } from '../datasets/jsonl-dataset';
import { collect, dataDir, FIXTURES, jsonl, writeData } from '../testing/fixtures';
import { validateFiles } from './validate';

const RED = 'images/red.png';
const codes = (report: Awaited<ReturnType<typeof validateFiles>>) =>
  report.issues.map((i) => [i.line, i.code, i.field].filter((x) => x !== undefined));

describe('validateFiles', () => {
  test.each(['caption', 'vqa', 'retrieval', 'instruction'])('the %s golden file is clean, stats are counted', async (task) => {
    const report = await validateFiles([path.join(FIXTURES, `${task}.jsonl`)]);
    expect(report.issues.filter((i) => i.severity === 'error')).toEqual([]);
    expect(report.files[0]).toMatchObject({ task, rejected: 0 });
    expect(report.files[0]!.images.distinct).toBeGreaterThan(0);
  });

  test('caption stats: counts, character lengths (Chinese by character), image sizes', async () => {
    const report = await validateFiles([path.join(FIXTURES, 'caption.jsonl')]);
    expect(report.files[0]).toMatchObject({
      lines: 3,
      records: 3,
      texts: { count: 4, chars: { min: 8, max: 22 } },
      images: { distinct: 3, width: { min: 32, max: 32 }, height: { min: 24, max: 24 }, formats: { png: 3 } },
    });
  });

  test('JSON, type, field and text errors carry line and field', async () => {
    const dir = dataDir();
    const file = writeData(
      dir,
      'bad.jsonl',
      jsonl(
        { image: RED, caption: 'fine' },
        '{"image": "images/red.png", "caption": }',
        '[1, 2]',
        { caption: 'no image' },
        { image: RED, caption: 42 },
        { image: RED, caption: '   ' },
        { image: RED, caption: ['ok', ''] },
        '',
      ),
    );
    const report = await validateFiles([file]);
    expect(codes(report)).toEqual([
      [2, 'invalid-json'],
      [3, 'not-object'],
      [4, 'missing-field', 'image'],
      [5, 'wrong-type', 'caption'],
      [6, 'empty-text', 'caption'],
      [7, 'empty-text', 'caption.1'],
      [8, 'blank-line'],
    ]);
    expect(report.errors).toBe(6);
    expect(report.issues[3]!.message).toContain('field "caption" must be a string or an array of strings');
  });

  test('a corrupt PNG, a missing image, traversal and a URL are errors on the image field', async () => {
    const dir = dataDir();
    const file = writeData(
      dir,
      'img.jsonl',
      jsonl(
        { image: 'images/corrupt.png', caption: 'broken' },
        { image: 'images/nope.png', caption: 'missing' },
        { image: '../../etc/passwd', caption: 'escape' },
        { image: 'http://x.org/a.jpg', caption: 'url' },
        { image: 'images', caption: 'a folder' },
      ),
    );
    const report = await validateFiles([file]);
    expect(codes(report)).toEqual([
      [1, 'image-corrupt', 'image'],
      [2, 'image-missing', 'image'],
      [3, 'image-outside-root', 'image'],
      [4, 'image-url', 'image'],
      [5, 'image-unreadable', 'image'],
    ]);
    const allowed = await validateFiles([file], { allowOutsideRoot: true });
    expect(allowed.issues.find((i) => i.line === 3)?.code).not.toBe('image-outside-root');
  });

  test('non-UTF-8 bytes, BOM + CRLF + Chinese', async () => {
    const dir = dataDir();
    const good = writeData(dir, 'bom.jsonl', `\uFEFF${JSON.stringify({ image: RED, caption: '一只红色的方块' })}\r\n`);
    expect((await validateFiles([good])).errors).toBe(0);
    const latin1 = Buffer.from(
      `${JSON.stringify({ image: RED, caption: 'ok' })}\n{"image": "images/red.png", "caption": "caf\xe9"}\n`,
      'latin1',
    );
    const report = await validateFiles([writeData(dir, 'latin1.jsonl', new Uint8Array(latin1))]);
    expect(codes(report)).toEqual([[2, 'non-utf8']]);
    expect(report.issues[0]!.message).toContain('byte 44');
  });

  test('truncated last line is named', async () => {
    const dir = dataDir();
    const file = writeData(dir, 't.jsonl', `${JSON.stringify({ image: RED, caption: 'ok' })}\n{"image": "images/red.png", "capt`);
    const report = await validateFiles([file]);
    expect(codes(report)).toEqual([[2, 'invalid-json']]);
    expect(report.issues[0]!.message).toContain('was it truncated?');
  });

  test('duplicates by image content + text (even under another path) and conflicting VQA answers', async () => {
    const dir = dataDir();
    fs.copyFileSync(path.join(dir, RED), path.join(dir, 'images', 'red-copy.png'));
    const caps = writeData(
      dir,
      'd.jsonl',
      jsonl({ image: RED, caption: 'a' }, { image: 'images/red-copy.png', caption: 'a' }, { image: RED, caption: 'b' }),
    );
    expect(codes(await validateFiles([caps]))).toEqual([[2, 'duplicate']]);
    const vqa = writeData(
      dir,
      'v.jsonl',
      jsonl(
        { image: RED, question: 'Color?', answer: 'red' },
        { image: RED, question: 'color? ', answer: 'blue' },
        { image: RED, question: 'Shape?', answer: 'square', answers: ['square'] },
      ),
    );
    const report = await validateFiles([vqa]);
    expect(codes(report)).toEqual([
      [2, 'conflicting-answer', 'answer'],
      [3, 'answers-count', 'answers'],
    ]);
    expect(report.errors).toBe(0);
  });

  test('leakage: the same image content in two split files is an error at the later file', async () => {
    const dir = dataDir();
    fs.copyFileSync(path.join(dir, RED), path.join(dir, 'images', 'red-copy.png'));
    const train = writeData(dir, 'train.jsonl', jsonl({ image: RED, caption: 'a' }, { image: 'images/green.png', caption: 'g' }));
    const val = writeData(
      dir,
      'val.jsonl',
      jsonl({ image: 'images/blue.png', caption: 'b' }, { image: 'images/red-copy.png', caption: 'other text' }),
    );
    const report = await validateFiles([train, val], { splits: true });
    expect(report.issues.map((i) => [i.file, i.line, i.code])).toEqual([[val, 2, 'leakage']]);
    expect(report.issues[0]!.message).toContain(`${train}:1`);
    // Several files that are not declared splits are each validated alone: no leakage.
    expect((await validateFiles([train, val])).issues).toEqual([]);
  });

  test('VQA answer imbalance is a file-level warning', async () => {
    const dir = dataDir();
    const records = Array.from({ length: 30 }, (_, i) => ({ image: RED, question: `q${i}?`, answer: i < 24 ? 'yes' : 'no' }));
    const report = await validateFiles([writeData(dir, 'imb.jsonl', jsonl(...records))]);
    expect(codes(report)).toEqual([['answer-imbalance', 'answer']]);
    expect(report.issues[0]!.message).toContain('"yes" is 80.0% of answers');
  });

  test('--fix writes the kept lines and every dropped line with its reasons; the input is untouched', async () => {
    const dir = dataDir();
    const input = `${JSON.stringify({ image: RED, caption: 'keep me' })}\r\n{"image": 1}\r\n\r\n${JSON.stringify({ image: RED, caption: 'keep me' })}\r\n`;
    const file = writeData(dir, 'in.jsonl', input);
    const out = path.join(dir, 'clean.jsonl');
    const report = await validateFiles([file], { fix: out });
    expect(fs.readFileSync(file, 'utf8')).toBe(input);
    expect(fs.readFileSync(out, 'utf8')).toBe(`${JSON.stringify({ image: RED, caption: 'keep me' })}\n`);
    const rejects = fs
      .readFileSync(`${out}.rejects.jsonl`, 'utf8')
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l));
    expect(rejects.map((r) => [r.line, r.reasons.map((x: { code: string }) => x.code)])).toEqual([
      [2, ['wrong-type', 'missing-field']],
      [3, ['blank-line']],
      [4, ['duplicate']],
    ]);
    expect(report.fix).toMatchObject({ kept: 1, dropped: 3 });
    await expect(validateFiles([file], { fix: file })).rejects.toThrow('would overwrite the input');
  });

  test('--fix into a folder above the input rewrites image paths so the cleaned file validates and trains as written', async () => {
    const dir = dataDir();
    const sub = path.join(dir, 'sub');
    fs.mkdirSync(sub);
    fs.renameSync(path.join(dir, 'images'), path.join(sub, 'images'));
    const file = writeData(sub, 'in.jsonl', jsonl({ image: RED, caption: 'red', id: 7 }, { image: 'images/nope.png', caption: 'missing' }));
    const out = path.join(dir, 'clean.jsonl');
    const report = await validateFiles([file], { fix: out });
    expect(report.fix).toMatchObject({ kept: 1, dropped: 1 });
    expect(fs.readFileSync(out, 'utf8')).toBe(`${JSON.stringify({ image: 'sub/images/red.png', caption: 'red', id: 7 })}\n`);
    expect((await validateFiles([out])).errors).toBe(0);
    expect(await collect(await openJsonlDataset(out))).toHaveLength(1);
  });

  test('--fix into a folder the images would leave is refused before anything is written', async () => {
    const dir = dataDir();
    const file = writeData(dir, 'in.jsonl', jsonl({ image: RED, caption: 'red' }));
    fs.mkdirSync(path.join(dir, 'clean'));
    const out = path.join(dir, 'clean', 'in.jsonl');
    await expect(validateFiles([file], { fix: out })).rejects.toThrow(/image paths would leave .*clean.*validate and training refuse/);
    expect(fs.existsSync(out)).toBe(false);
    // --root covering the images makes the "../images" paths valid where the same root is given.
    await validateFiles([file], { fix: out, root: dir });
    expect(JSON.parse(fs.readFileSync(out, 'utf8')).image).toBe('../images/red.png');
    expect((await validateFiles([out], { root: dir })).errors).toBe(0);
  });

  test('an empty file has no records', async () => {
    const dir = dataDir();
    expect(codes(await validateFiles([writeData(dir, 'e.jsonl', '')]))).toEqual([['no-records']]);
  });
});
