import * as fs from 'node:fs';
import * as path from 'node:path';
import { describe, expect, test } from '@jest/globals';
import { dataDir, jsonl, writeData } from '../testing/fixtures';
import { validateFiles } from '../validate/validate';
import { splitFile } from './split';

const lines = (file: string) => fs.readFileSync(file, 'utf8').trim().split('\n').filter(Boolean);

async function fortyRecords() {
  const dir = dataDir();
  // 20 distinct images (sharp-free: distinct bytes are enough for a content hash), 2 records each.
  const records = [];
  for (let i = 0; i < 20; i += 1) {
    fs.writeFileSync(path.join(dir, 'images', `i${i}.png`), `image ${i}`);
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
    const report = await validateFiles(a.outputs.map((o) => o.file));
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

  test('writing to another folder rewrites image paths so they still resolve', async () => {
    const { dir, file } = await fortyRecords();
    const outDir = path.join(dir, 'splits');
    const { outputs } = await splitFile(file, { ratios: [0.8, 0.2, 0], outDir });
    expect(outputs.map((o) => o.name)).toEqual(['train', 'val']);
    const record = JSON.parse(lines(outputs[0]!.file)[0]!);
    expect(fs.existsSync(path.resolve(outDir, record.image))).toBe(true);
  });

  test('bad ratios and invalid records are refused', async () => {
    const { dir, file } = await fortyRecords();
    await expect(splitFile(file, { ratios: [0.5, 0.5, 0.5] })).rejects.toThrow('summing to 1');
    const bad = writeData(dir, 'bad.jsonl', jsonl({ image: 'images/i1.png', caption: 'ok' }, { image: 'images/none.png', caption: 'x' }));
    await expect(splitFile(bad, { ratios: [0.8, 0.1, 0.1] })).rejects.toThrow(`${bad}:2: image`);
  });
});
