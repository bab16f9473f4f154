import * as fs from 'node:fs';
import * as path from 'node:path';
import { describe, expect, test } from '@jest/globals';
import sharp from 'sharp';
import { openJsonlDataset } from '../datasets/jsonl-dataset';
import { collect, dataDir, jsonl, writeData } from '../testing/fixtures';
import { validateFiles } from '../validate/validate';
import { splitFile } from './split';

const lines = (file: string) => fs.readFileSync(file, 'utf8').trim().split('\n').filter(Boolean);

async function fortyRecords() {
  const dir = dataDir();
  // 20 distinct 2x2 images (split decodes every image, as validate does), 2 records each.
  const records = [];
  for (let i = 0; i < 20; i += 1) {
    const png = await sharp({ create: { width: 2, height: 2, channels: 3, background: { r: i * 10, g: 0, b: 0 } } })
      .png()
      .toBuffer();
    fs.writeFileSync(path.join(dir, 'images', `i${i}.png`), png);
    records.push({ image: `images/i${i}.png`, caption: `first ${i}` }, { image: `images/i${i}.png`, caption: `second ${i}` });
  }
  // Same content as i0 under another name: must follow i0 into its split.
  fs.copyFileSync(path.join(dir, 'images', 'i0.png'), path.join(dir, 'images', 'copy-of-0.png'));
  records.push({ image: 'images/copy-of-0.png', caption: 'copy' });
  return { dir, file: writeData(dir, 'all.jsonl', jsonl(...records)) };
}

describe('splitFile', () => {
  test('is deterministic, keeps every record, and never puts one image content in two splits', async () => {
    const { dir, file } = await fortyRecords();
    const a = await splitFile(file, { ratios: [0.5, 0.25, 0.25], seed: 1 });
    const first = a.outputs.map((o) => lines(o.file));
    expect(a.outputs.map((o) => o.name)).toEqual(['train', 'val', 'test']);
    expect(first.flat().sort()).toEqual(lines(file).sort());
    expect(a.outputs.map((o) => o.records)).toEqual(first.map((l) => l.length));
    const again = await splitFile(file, { ratios: [0.5, 0.25, 0.25], seed: 1, force: true });
    expect(again.outputs.map((o) => lines(o.file))).toEqual(first);
    // Record counts land near the ratios (each image holds 2 records).
    expect(Math.abs(a.outputs[0]!.records - 20.5)).toBeLessThanOrEqual(2);
    // The validator's leakage check agrees: no image content in two splits.
    const report = await validateFiles(
      a.outputs.map((o) => o.file),
      { splits: true },
    );
    expect(report.byCode.leakage).toBeUndefined();
    const withCopy = a.outputs.find((o) => lines(o.file).some((l) => l.includes('copy-of-0')))!;
    expect(lines(withCopy.file).some((l) => l.includes('"images/i0.png"'))).toBe(true);
    expect(fs.existsSync(path.join(dir, 'all.train.jsonl'))).toBe(true);
  });

  test('another seed gives another split; existing outputs need force', async () => {
    const { file } = await fortyRecords();
    const a = (await splitFile(file, { ratios: [0.5, 0.25, 0.25], seed: 1 })).outputs.map((o) => lines(o.file));
    await expect(splitFile(file, { ratios: [0.5, 0.25, 0.25], seed: 2 })).rejects.toThrow('exists');
    const b = (await splitFile(file, { ratios: [0.5, 0.25, 0.25], seed: 2, force: true })).outputs.map((o) => lines(o.file));
    expect(b).not.toEqual(a);
  });

  test('an output folder above the input gets rewritten image paths that validate and train as written', async () => {
    const { dir, file } = await fortyRecords();
    const nested = path.join(dir, 'data');
    fs.mkdirSync(nested);
    fs.renameSync(path.join(dir, 'images'), path.join(nested, 'images'));
    const input = path.join(nested, 'all.jsonl');
    fs.renameSync(file, input);
    const { outputs } = await splitFile(input, { ratios: [0.8, 0.2, 0], outDir: dir });
    expect(outputs.map((o) => o.name)).toEqual(['train', 'val']);
    expect(JSON.parse(lines(outputs[0]!.file)[0]!).image).toMatch(/^data\/images\/i\d+\.png$/);
    const report = await validateFiles(
      outputs.map((o) => o.file),
      { splits: true },
    );
    expect(report.issues.filter((i) => i.severity === 'error')).toEqual([]);
    const examples = await collect(await openJsonlDataset(outputs[0]!.file));
    expect(examples).toHaveLength(outputs[0]!.records);
  });

  test('an output folder the images would leave is refused before anything is written, unless --root covers them', async () => {
    const { dir, file } = await fortyRecords();
    const outDir = path.join(dir, 'splits');
    await expect(splitFile(file, { ratios: [0.8, 0.2, 0], outDir })).rejects.toThrow(
      /image paths would leave .*splits.*validate and training refuse/,
    );
    expect(fs.existsSync(outDir)).toBe(false);
    // With --root the "../images" paths are inside the root, and validate with the same root accepts them.
    const { outputs } = await splitFile(file, { ratios: [0.8, 0.2, 0], outDir, root: dir });
    expect(JSON.parse(lines(outputs[0]!.file)[0]!).image).toMatch(/^\.\.\/images\//);
    expect(
      (
        await validateFiles(
          outputs.map((o) => o.file),
          { root: dir, splits: true },
        )
      ).errors,
    ).toBe(0);
  });

  test('split refuses what validate refuses: a corrupt image, an empty file', async () => {
    const { dir } = await fortyRecords();
    const corrupt = writeData(
      dir,
      'corrupt.jsonl',
      jsonl({ image: 'images/i1.png', caption: 'ok' }, { image: 'images/corrupt.png', caption: 'x' }),
    );
    await expect(splitFile(corrupt, { ratios: [0.5, 0.5, 0] })).rejects.toThrow(`${corrupt}:2: image`);
    expect((await validateFiles([corrupt])).byCode['image-corrupt']).toBe(1);
    const empty = writeData(dir, 'empty.jsonl', '');
    await expect(splitFile(empty, { ratios: [0.5, 0.5, 0] })).rejects.toThrow('holds no records');
    expect(fs.existsSync(path.join(dir, 'empty.train.jsonl'))).toBe(false);
  });

  test('a split that would hold no records is refused (an empty file does not validate)', async () => {
    const { dir } = await fortyRecords();
    const two = writeData(dir, 'two.jsonl', jsonl({ image: 'images/i1.png', caption: 'a' }, { image: 'images/i2.png', caption: 'b' }));
    await expect(splitFile(two, { ratios: [0.8, 0.1, 0.1] })).rejects.toThrow(/would hold no records/);
    expect(fs.existsSync(path.join(dir, 'two.train.jsonl'))).toBe(false);
  });

  test('bad ratios and invalid records are refused', async () => {
    const { dir, file } = await fortyRecords();
    await expect(splitFile(file, { ratios: [0.5, 0.5, 0.5] })).rejects.toThrow('summing to 1');
    const bad = writeData(dir, 'bad.jsonl', jsonl({ image: 'images/i1.png', caption: 'ok' }, { image: 'images/none.png', caption: 'x' }));
    await expect(splitFile(bad, { ratios: [0.8, 0.1, 0.1] })).rejects.toThrow(`${bad}:2: image`);
  });
});
