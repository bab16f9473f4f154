import { createHash } from 'node:crypto';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { describe, expect, it } from '@jest/globals';
import { isMmftError } from '../errors';
import { checkDataManifest, manifestPathFor, readDataManifest, verifyDataManifest, writeDataManifest } from './manifest';

const sha = (b: string | Buffer) => createHash('sha256').update(b).digest('hex');

function fixture(): { dir: string; file: string } {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'mmft-manifest-'));
  fs.mkdirSync(path.join(dir, 'img'));
  fs.writeFileSync(path.join(dir, 'img/a.png'), 'AAA');
  fs.writeFileSync(path.join(dir, 'img/b.png'), 'BBBB');
  const lines = [
    JSON.stringify({ image: 'img/b.png', caption: 'b' }),
    '',
    JSON.stringify({ images: ['img/a.png', 'img/b.png'], messages: [] }),
    JSON.stringify({ image: 'data:image/png;base64,AAAA', caption: 'inline' }),
    JSON.stringify({ image: 'img/gone.png', caption: 'missing' }),
  ];
  const file = path.join(dir, 'train.jsonl');
  fs.writeFileSync(file, lines.join('\n') + '\n');
  return { dir, file };
}

describe('data manifest', () => {
  it('records hash, bytes, records and an image digest a shell sha256sum reproduces', async () => {
    const { file } = fixture();
    const { path: at, manifest } = await writeDataManifest(file, { license: 'cc-by-4.0', now: new Date(0) });
    expect(at).toBe(manifestPathFor(file));
    const bytes = fs.readFileSync(file);
    // Hand-computed: 4 non-blank lines, 2 distinct local images found, 1 missing, the data URL skipped.
    const imageLines = `img/a.png  ${sha('AAA')}\nimg/b.png  ${sha('BBBB')}\n`;
    expect(manifest).toEqual({
      schema: 'mmft-data-manifest/1',
      file: 'train.jsonl',
      sha256: sha(bytes),
      bytes: bytes.length,
      records: 4,
      images: { count: 2, sha256: sha(imageLines), missing: 1 },
      license: 'cc-by-4.0',
      created: '1970-01-01T00:00:00.000Z',
    });
    expect(await readDataManifest(file)).toEqual(manifest);
    expect(await verifyDataManifest(file)).toEqual({ ok: true, manifest });
  });

  it('keeps the licence and source of an old manifest when rewriting', async () => {
    const { file } = fixture();
    await writeDataManifest(file, { license: 'apache-2.0', source: { generator: 'x', seed: 3 } });
    fs.appendFileSync(file, JSON.stringify({ image: 'img/a.png', caption: 'new' }) + '\n');
    const { manifest } = await writeDataManifest(file);
    expect(manifest.license).toBe('apache-2.0');
    expect(manifest.source).toEqual({ generator: 'x', seed: 3 });
    expect(manifest.records).toBe(5);
  });

  it('a file without a manifest verifies as ok with nothing vouched for', async () => {
    const { file } = fixture();
    expect(await verifyDataManifest(file)).toEqual({ ok: true });
    expect(await checkDataManifest(file)).toEqual([]);
  });

  it('names every change: an edited line, an edited image, a removed image', async () => {
    const { dir, file } = fixture();
    await writeDataManifest(file);
    fs.writeFileSync(path.join(dir, 'img/a.png'), 'AAA!');
    let check = await verifyDataManifest(file);
    expect(check.ok).toBe(false);
    if (!check.ok) expect(check.changed.map((c) => c.split(':')[0])).toEqual(['images.sha256']);

    const text = fs.readFileSync(file, 'utf8').replace('"b"', '"c"');
    fs.writeFileSync(file, text + JSON.stringify({ caption: 'extra', image: 'img/a.png' }) + '\n');
    fs.rmSync(path.join(dir, 'img/b.png'));
    check = await verifyDataManifest(file);
    expect(check.ok).toBe(false);
    if (!check.ok) {
      expect(check.changed.map((c) => c.split(':')[0])).toEqual([
        'sha256',
        'bytes',
        'records',
        'images.count',
        'images.sha256',
        'images.missing',
      ]);
      expect(check.changed[2]).toBe('records: 4 → 5');
      expect(check.changed[3]).toBe('images.count: 2 → 1');
      expect(check.changed[5]).toBe('images.missing: 1 → 2');
    }
  });

  it('checkDataManifest refuses a changed file with E_DATA_CHANGED naming file and change, and accepts it on request', async () => {
    const { file } = fixture();
    await writeDataManifest(file);
    fs.appendFileSync(file, '{"caption":"x","image":"img/a.png"}\n');
    let err: unknown;
    await checkDataManifest(file).catch((e) => (err = e));
    expect(isMmftError(err) && err.code).toBe('E_DATA_CHANGED');
    expect((err as Error).message).toContain(file);
    expect((err as Error).message).toContain('records: 4 → 5');
    const accepted = await checkDataManifest(file, { accept: true });
    expect(accepted).toContain('records: 4 → 5');
  });

  it('a whole images folder (COCO-style) is digested and re-found from the manifest', async () => {
    const { dir } = fixture();
    const ann = path.join(dir, 'captions.json');
    fs.writeFileSync(ann, JSON.stringify({ images: [], annotations: [] }));
    const { manifest } = await writeDataManifest(ann, { imagesDir: path.join(dir, 'img') });
    expect(manifest.records).toBeNull();
    expect(manifest.images).toEqual({ count: 2, sha256: sha(`a.png  ${sha('AAA')}\nb.png  ${sha('BBBB')}\n`), dir: 'img' });
    fs.writeFileSync(path.join(dir, 'img/c.png'), 'C');
    const check = await verifyDataManifest(ann);
    expect(check.ok).toBe(false);
    if (!check.ok) expect(check.changed[0]).toBe('images.count: 2 → 3');
  });

  it('refuses a manifest file that is not one', async () => {
    const { file } = fixture();
    fs.writeFileSync(manifestPathFor(file), '{"schema":"other"}');
    await expect(verifyDataManifest(file)).rejects.toThrow(/not an mmft-data-manifest\/1 manifest/);
  });
});
