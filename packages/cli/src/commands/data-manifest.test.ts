import { describe, expect, test } from '@jest/globals';
import { createHash } from 'node:crypto';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { verifyDataManifest } from '@mmft/core/trust';
import { runCliForTest } from '../testing';

const sha = (b: Buffer | string) => createHash('sha256').update(b).digest('hex');

describe('mmft data manifest', () => {
  test('writes <file>.manifest.json with hash, records, images and licence; --check reports a later change', async () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'mmft-dm-'));
    fs.writeFileSync(path.join(dir, 'a.png'), 'PNG');
    const file = path.join(dir, 'train.jsonl');
    fs.writeFileSync(file, '{"image":"a.png","caption":"x"}\n{"image":"a.png","caption":"y"}\n');
    const r = await runCliForTest(['data', 'manifest', 'train.jsonl', '--license', 'CC-BY-4.0'], { cwd: dir });
    expect(r.stdout).toBe(
      `train.jsonl.manifest.json: 2 records, 1 images, sha256 ${sha(fs.readFileSync(file)).slice(0, 12)}…, licence cc-by-4.0\n`,
    );
    expect(r.code).toBe(0);
    const manifest = JSON.parse(fs.readFileSync(`${file}.manifest.json`, 'utf8'));
    expect(manifest).toMatchObject({
      schema: 'mmft-data-manifest/1',
      sha256: sha(fs.readFileSync(file)),
      records: 2,
      images: { count: 1, sha256: sha(`a.png  ${sha('PNG')}\n`) },
      license: 'cc-by-4.0',
    });
    expect((await runCliForTest(['data', 'manifest', 'train.jsonl', '--check'], { cwd: dir })).stdout).toBe(
      'train.jsonl: matches its manifest\n',
    );
    fs.writeFileSync(path.join(dir, 'a.png'), 'PNG2');
    const changed = await runCliForTest(['data', 'manifest', 'train.jsonl', '--check'], { cwd: dir });
    expect(changed.code).not.toBe(0);
    expect(changed.stdout).toMatch(/^train\.jsonl: changed since its manifest: images\.sha256: /);
    expect(changed.stderr).toContain('1 of 1 data files no longer match their manifest: train.jsonl');
  });

  test('refuses a licence that is not an id', async () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'mmft-dm-'));
    fs.writeFileSync(path.join(dir, 't.jsonl'), '{}\n');
    const r = await runCliForTest(['data', 'manifest', 't.jsonl', '--license', 'free for all'], { cwd: dir });
    expect(r.code).not.toBe(0);
    expect(r.stderr).toContain('--license: "free for all" is not a licence id');
    expect(fs.existsSync(path.join(dir, 't.jsonl.manifest.json'))).toBe(false);
  });

  test('mmft data synth writes a manifest of its output recording the generator and seed', async () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'mmft-dm-'));
    const r = await runCliForTest(['data', 'synth', '--out', 's', '--n', '2', '--size', '16', '--seed', '5'], { cwd: dir });
    expect(r.code).toBe(0);
    const file = path.join(dir, 's', 'llava.json');
    const manifest = JSON.parse(fs.readFileSync(`${file}.manifest.json`, 'utf8'));
    const records = JSON.parse(fs.readFileSync(file, 'utf8')) as Array<{ image: string }>;
    expect(manifest).toMatchObject({
      file: 'llava.json',
      sha256: sha(fs.readFileSync(file)),
      records: records.length,
      images: { count: new Set(records.map((x) => x.image)).size },
      source: { generator: 'mmft data synth (shapes)', seed: 5, n: 2, domain: 'A', lang: 'en', imageSize: 16 },
    });
    expect(manifest.images.count).toBe(2);
    expect(await verifyDataManifest(file)).toEqual({ ok: true, manifest });
  });

  test('mmft train refuses data changed since its manifest before loading anything; --accept-data-change goes past the check', async () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'mmft-dm-'));
    fs.writeFileSync(path.join(dir, 'train.jsonl'), '{"text":"a"}\n');
    expect((await runCliForTest(['data', 'manifest', 'train.jsonl'], { cwd: dir })).code).toBe(0);
    fs.appendFileSync(path.join(dir, 'train.jsonl'), '{"text":"b"}\n');
    // The model folder does not exist: a run that gets past the data check fails there, before any training.
    fs.writeFileSync(
      path.join(dir, 'r.yaml'),
      'model: { type: gpt2, checkpoint: ./missing-model }\ndata: { train: { type: jsonl, path: ./train.jsonl } }\ntrain: { type: standard, max_steps: 1 }\n',
    );
    const refused = await runCliForTest(['train', 'r.yaml', '--output', 'out'], { cwd: dir });
    expect(refused.code).not.toBe(0);
    expect(refused.stderr).toContain(`${path.join(dir, 'train.jsonl')} (data.train.path): `);
    expect(refused.stderr).toContain('records: 1 → 2');
    expect(refused.stderr).toContain('--accept-data-change');
    const accepted = await runCliForTest(['train', 'r.yaml', '--output', 'out', '--accept-data-change'], { cwd: dir });
    expect(accepted.code).not.toBe(0);
    expect(accepted.stderr).toContain('changed since its manifest (sha256: ');
    expect(accepted.stderr).toContain('going on (--accept-data-change), recorded in provenance.json');
    expect(accepted.stderr).toContain('missing-model');
  });
});
