import { describe, expect, test } from '@jest/globals';
import { createHash } from 'node:crypto';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import type { Example } from '@mmft/core';
import { shapesConfigSchema, ShapesDataset, writeShapesDataset } from './index';

const tmp = (): string => fs.mkdtempSync(path.join(os.tmpdir(), 'mmft-shapes-'));

function hashTree(dir: string): Record<string, string> {
  const out: Record<string, string> = {};
  const walk = (d: string): void => {
    for (const entry of fs.readdirSync(d, { withFileTypes: true })) {
      const full = path.join(d, entry.name);
      if (entry.isDirectory()) walk(full);
      else
        out[path.relative(dir, full)] = createHash('sha256')
          .update(new Uint8Array(fs.readFileSync(full)))
          .digest('hex');
    }
  };
  walk(dir);
  return out;
}

async function collect(ds: ShapesDataset, options = {}): Promise<Example[]> {
  const out: Example[] = [];
  for await (const ex of ds.iterate(options)) out.push(ex);
  return out;
}

describe('writeShapesDataset', () => {
  test('the same seed writes byte-identical files; another seed does not', async () => {
    const options = { n: 12, domain: 'B' as const, lang: 'both' as const, seed: 7, imageSize: 48 };
    const [a, b, c] = [tmp(), tmp(), tmp()];
    await writeShapesDataset(a, options);
    await writeShapesDataset(b, options);
    await writeShapesDataset(c, { ...options, seed: 8 });
    const ha = hashTree(a);
    expect(Object.keys(ha).sort()).toEqual(
      [
        'captions.jsonl',
        'instruction.jsonl',
        'retrieval.jsonl',
        'vqa.jsonl',
        ...Array.from({ length: 12 }, (_, i) => `images/${String(i).padStart(6, '0')}.png`),
      ].sort(),
    );
    expect(hashTree(b)).toEqual(ha);
    expect(hashTree(c)['captions.jsonl']).not.toBe(ha['captions.jsonl']);
  });

  test('records follow the data-jsonl formats and point at written images', async () => {
    const dir = tmp();
    const seen: number[] = [];
    const result = await writeShapesDataset(dir, {
      n: 5,
      lang: 'zh',
      tasks: ['vqa', 'instruction', 'retrieval'],
      onProgress: (done) => seen.push(done),
    });
    expect(seen).toEqual([1, 2, 3, 4, 5]);
    expect(result.records).toEqual({ 'vqa.jsonl': 15, 'instruction.jsonl': 5, 'retrieval.jsonl': 5 });
    expect(fs.existsSync(path.join(dir, 'captions.jsonl'))).toBe(false);
    const read = (file: string) =>
      fs
        .readFileSync(path.join(dir, file), 'utf8')
        .trim()
        .split('\n')
        .map((l) => JSON.parse(l) as Record<string, unknown>);
    for (const r of read('vqa.jsonl')) {
      expect(fs.existsSync(path.join(dir, r.image as string))).toBe(true);
      expect(r.answers).toEqual(Array(10).fill(r.answer));
      expect(r.lang).toBe('zh');
    }
    for (const r of read('instruction.jsonl')) {
      const conv = r.conversations as { from: string; value: string }[];
      expect(conv[0]!.from).toBe('human');
      expect(conv[0]!.value.startsWith('<image>\n')).toBe(true);
      expect(conv.map((t) => t.from)).toEqual(['human', 'gpt', 'human', 'gpt', 'human', 'gpt']);
    }
    for (const r of read('retrieval.jsonl')) {
      const negatives = r.neg_text as string[];
      expect(negatives.length).toBeGreaterThan(0);
      for (const neg of negatives) expect(r.captions as string[]).not.toContain(neg);
    }
  });
});

describe('ShapesDataset', () => {
  const config = shapesConfigSchema.parse({ task: 'vqa', n: 10, lang: 'both', questionsPerImage: 2, seed: 3 });

  test('streams in-memory PNG examples, deterministic across runs', async () => {
    const ds = new ShapesDataset(config);
    expect(ds.size).toBe(40);
    const first = await collect(ds);
    expect(first).toHaveLength(40);
    expect(first[0]!.image?.kind).toBe('bytes');
    const again = await collect(new ShapesDataset(config));
    expect(again.map((e) => e.id)).toEqual(first.map((e) => e.id));
    const md5 = (e: Example) => (e.image?.kind === 'bytes' ? createHash('md5').update(e.image.bytes).digest('hex') : '');
    expect(again.map(md5)).toEqual(first.map(md5));
  });

  test('shards partition the stream; startAt resumes it; shuffle is seeded', async () => {
    const ds = new ShapesDataset(config);
    const all = (await collect(ds, { shuffle: true, seed: 5 })).map((e) => e.id);
    const shards = await Promise.all(
      [0, 1, 2].map(async (index) => (await collect(ds, { shuffle: true, seed: 5, shard: { index, count: 3 } })).map((e) => e.id)),
    );
    expect(shards.flat().sort()).toEqual([...all].sort());
    expect(shards[1]).toEqual(all.filter((_, i) => i % 3 === 1));
    expect((await collect(ds, { shuffle: true, seed: 5, startAt: 13 })).map((e) => e.id)).toEqual(all.slice(13));
    expect((await collect(ds, { shuffle: true, seed: 6 })).map((e) => e.id)).not.toEqual(all);
    await expect(collect(ds, { shard: { index: 3, count: 3 } })).rejects.toThrow('shard index 3 of 3 is out of range');
  });
});
