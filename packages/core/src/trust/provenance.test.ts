import { createHash } from 'node:crypto';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { describe, expect, it } from '@jest/globals';
import { isMmftError } from '../errors';
import { writeDataManifest } from './manifest';
import {
  buildProvenance,
  collectDataInputs,
  describeBase,
  describeRecipe,
  gitState,
  provenanceChain,
  readProvenance,
  writeProvenance,
  type Provenance,
} from './provenance';

const sha = (b: string | Buffer) => createHash('sha256').update(b).digest('hex');
const tmp = () => fs.mkdtempSync(path.join(os.tmpdir(), 'mmft-prov-'));

function modelFolder(root: string, name: string, weights: string): string {
  const dir = path.join(root, name);
  fs.mkdirSync(dir);
  fs.writeFileSync(path.join(dir, 'config.json'), `{"model_type":"clip","name":"${name}"}`);
  fs.writeFileSync(path.join(dir, 'model.safetensors'), weights);
  return dir;
}

const step = (n: number) => ({ kind: 'train' as const, steps: n });
const empty = { recipe: null, inputs: [], data_manifests: [], environment: {} };

describe('provenance', () => {
  it('chains base → fine-tune → LoRA in three folders, each base inlined with its file hashes', async () => {
    const root = tmp();
    const baseDir = modelFolder(root, 'base', 'W0');
    await writeProvenance(baseDir, buildProvenance({ ...empty, base: null, steps: [step(100)] }));
    const ftDir = modelFolder(root, 'finetune', 'W1');
    await writeProvenance(ftDir, buildProvenance({ ...empty, base: await describeBase(baseDir), steps: [step(20)] }));
    const loraDir = path.join(root, 'lora');
    fs.mkdirSync(loraDir);
    fs.writeFileSync(path.join(loraDir, 'adapter_config.json'), '{}');
    await writeProvenance(loraDir, buildProvenance({ ...empty, base: await describeBase(ftDir), steps: [step(5)] }));

    const lora = (await readProvenance(loraDir))!;
    const chain = provenanceChain(lora);
    expect(chain.map((c) => c.provenance.steps[0]!.steps)).toEqual([5, 20, 100]);
    expect(chain.map((c) => c.base && path.basename(c.base.path))).toEqual(['finetune', 'base', null]);
    expect(lora.base!.files).toEqual([
      { name: 'config.json', bytes: 39, sha256: sha('{"model_type":"clip","name":"finetune"}') },
      { name: 'model.safetensors', bytes: 2, sha256: sha('W1') },
    ]);
    expect(lora.base!.provenance!.base!.files[1]).toEqual({ name: 'model.safetensors', bytes: 2, sha256: sha('W0') });
    // A tool reads it back as plain JSON: the schema tag is on every link.
    const raw = JSON.parse(fs.readFileSync(path.join(loraDir, 'provenance.json'), 'utf8')) as Provenance;
    expect(raw.base!.provenance!.base!.provenance!.schema).toBe('mmft-provenance/1');
    expect(raw.base!.provenance!.base!.provenance!.base).toBeNull();
  });

  it('records data files with hash, size, records, licence; generators with seed and n; mixtures per source', async () => {
    const dir = tmp();
    const train = path.join(dir, 'train.jsonl');
    fs.writeFileSync(train, '{"caption":"a"}\n{"caption":"b"}\n');
    await writeDataManifest(train, { license: 'cc-by-4.0' });
    const other = path.join(dir, 'other.jsonl');
    fs.writeFileSync(other, '{"caption":"c"}\n');
    const data = {
      train: {
        type: 'mix',
        sources: [
          { type: 'jsonl', path: 'train.jsonl' },
          { type: 'shapes', n: 8, seed: 3, lang: 'zh' },
        ],
      },
      eval: { type: 'jsonl', path: other },
    };
    const got = await collectDataInputs(data, dir);
    expect(got.inputs).toEqual([
      { role: 'data.train.sources[0].path', path: train, sha256: sha(fs.readFileSync(train)), bytes: 32, records: 2, license: 'cc-by-4.0' },
      { role: 'data.train.sources[1]', generator: 'shapes', settings: { n: 8, seed: 3, lang: 'zh' } },
      { role: 'data.eval.path', path: other, sha256: sha('{"caption":"c"}\n'), bytes: 16, records: 1 },
    ]);
    expect(got.manifests.map((m) => m.file)).toEqual(['train.jsonl']);
    expect(got.accepted).toEqual([]);
  });

  it('an images folder (COCO layout) is fingerprinted by its path and size listing, not hashed image by image', async () => {
    const dir = tmp();
    fs.mkdirSync(path.join(dir, 'imgs/sub'), { recursive: true });
    fs.writeFileSync(path.join(dir, 'imgs/b.jpg'), 'BB');
    fs.writeFileSync(path.join(dir, 'imgs/sub/a.jpg'), 'A');
    fs.writeFileSync(path.join(dir, 'ann.json'), '{"images":[],"annotations":[]}');
    const got = await collectDataInputs({ train: { type: 'coco-captions', annotations: 'ann.json', images: 'imgs' } }, dir);
    expect(got.inputs[1]).toEqual({
      role: 'data.train.images',
      path: path.join(dir, 'imgs'),
      listing: { count: 2, bytes: 3, sha256: sha('b.jpg  2\nsub/a.jpg  1\n') },
    });
    expect(got.inputs[0]).toMatchObject({ role: 'data.train.annotations', records: null, bytes: 30 });
  });

  it('a missing data file or images folder is left to the dataset provider to report (no input, no error)', async () => {
    const dir = tmp();
    const got = await collectDataInputs({ train: { type: 'coco-captions', annotations: 'nope.json', images: 'no-dir' } }, dir);
    expect(got.inputs).toEqual([]);
  });

  it('refuses a data file whose manifest no longer matches; --accept-data-change records what changed', async () => {
    const dir = tmp();
    const train = path.join(dir, 'train.jsonl');
    fs.writeFileSync(train, '{"caption":"a"}\n');
    await writeDataManifest(train);
    fs.appendFileSync(train, '{"caption":"b"}\n');
    const data = { train: { type: 'jsonl', path: train } };
    let err: unknown;
    await collectDataInputs(data, dir).catch((e) => (err = e));
    expect(isMmftError(err) && err.code).toBe('E_DATA_CHANGED');
    expect((err as Error).message).toContain(`${train} (data.train.path)`);
    expect((err as Error).message).toContain('records: 1 → 2');
    const accepted = await collectDataInputs(data, dir, { acceptDataChange: true });
    expect(accepted.accepted).toEqual([{ file: train, changed: [expect.stringMatching(/^sha256/), 'bytes: 16 → 32', 'records: 1 → 2'] }]);
    expect(accepted.inputs[0]).toMatchObject({ sha256: sha(fs.readFileSync(train)), records: 2 });
  });

  it('recipe: hash, git state of its folder (none outside a work tree), the resolved value', async () => {
    const dir = tmp();
    const file = path.join(dir, 'r.yaml');
    fs.writeFileSync(file, 'name: x\n');
    const r = await describeRecipe(file, { name: 'x' });
    expect(r).toEqual({
      path: file,
      sha256: sha('name: x\n'),
      git: { none: `${dir} is not inside a git work tree with a commit` },
      resolved: { name: 'x' },
    });
    const here = gitState(__dirname);
    if ('commit' in here) expect(here.commit).toMatch(/^[0-9a-f]{40}$/);
    else expect(here.none).toMatch(/git/); // a source copy without .git
  });

  it('a provenance.json of another schema is refused', async () => {
    const dir = tmp();
    fs.writeFileSync(path.join(dir, 'provenance.json'), '{"schema":"x"}');
    await expect(readProvenance(dir)).rejects.toThrow(/not an mmft-provenance\/1 file/);
    expect(await readProvenance(tmp())).toBeNull();
  });
});
