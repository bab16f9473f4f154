import '@tensorflow/tfjs-backend-cpu';
import * as tf from '@tensorflow/tfjs-core';
import { beforeAll, describe, expect, test } from '@jest/globals';
import { createHash } from 'node:crypto';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { isMmftError, type RunContext } from '@mmft/core';
import { registerGradients } from '@mmft/core/nn';
import { parseModelCard, writeDataManifest, type Provenance } from '@mmft/core/trust';
import { recordingReporter, registry } from '../fixtures.test-helper';
import { runTraining, trainConfigSchema } from '../index';

beforeAll(async () => {
  await tf.setBackend('cpu');
  registerGradients();
});

const sha = (b: Buffer) => createHash('sha256').update(b).digest('hex');

// The memory dataset ignores `path`; provenance hashes the file it names like any data file.
function context(outputDir: string, dataFile: string, extra: Partial<RunContext> = {}): RunContext {
  return {
    recipe: {
      name: 'tiny',
      seed: 7,
      model: { type: 'tiny-dual', config: { seed: 3 } },
      data: { train: { type: 'memory', name: 'train', path: dataFile } },
      loss: { type: 'test-infonce' },
      metrics: [],
      card: { license: 'apache-2.0' },
    },
    baseDir: outputDir,
    outputDir,
    resolver: registry(),
    reporter: recordingReporter(),
    ...extra,
  };
}

const config = trainConfigSchema.parse({ batch_size: 4, lr: 1e-2, max_steps: 2, log_every: 1 });

describe('provenance and model card of a training run', () => {
  test('checkpoint-last/model holds README.md (HF card) and provenance.json naming the data file by hash', async () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'mmft-prov-run-'));
    const dataFile = path.join(dir, 'train.jsonl');
    fs.writeFileSync(dataFile, '{"caption":"a red square"}\n{"caption":"a blue square"}\n');
    await writeDataManifest(dataFile, { license: 'cc-by-4.0' });
    const out = path.join(dir, 'run');
    await runTraining(config, context(out, dataFile));
    const modelDir = path.join(out, 'checkpoint-last', 'model');
    const provenance = JSON.parse(fs.readFileSync(path.join(modelDir, 'provenance.json'), 'utf8')) as Provenance;
    expect(provenance.schema).toBe('mmft-provenance/1');
    expect(provenance.inputs).toEqual([
      { role: 'data.train.path', path: dataFile, sha256: sha(fs.readFileSync(dataFile)), bytes: 55, records: 2, license: 'cc-by-4.0' },
    ]);
    expect(provenance.steps).toEqual([
      expect.objectContaining({ kind: 'train', steps: 2, total_steps: 2, samples: 8, seed: 7, batch_size: 4, metrics: {} }),
    ]);
    expect(provenance.base).toBeNull();
    expect(provenance.environment).toEqual(expect.objectContaining({ engine: 'cpu', tfjs: tf.version_core, node: process.version }));
    const { data, body } = parseModelCard(fs.readFileSync(path.join(modelDir, 'README.md'), 'utf8'));
    expect(data).toEqual({ library_name: 'mmft', license: 'apache-2.0', datasets: ['train'], tags: ['mmft', 'tiny-dual'] });
    expect(body).toContain('- **Steps:** 2 of 2');
    expect(body).toContain(`\`${sha(fs.readFileSync(dataFile))}\``);
  });

  test('a data file changed since its manifest stops the run; --accept-data-change trains and records the change', async () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'mmft-prov-run-'));
    const dataFile = path.join(dir, 'train.jsonl');
    fs.writeFileSync(dataFile, '{"caption":"a red square"}\n');
    await writeDataManifest(dataFile);
    fs.appendFileSync(dataFile, '{"caption":"a blue square"}\n');
    let err: unknown;
    await runTraining(config, context(path.join(dir, 'refused'), dataFile)).catch((e) => (err = e));
    expect(isMmftError(err) && err.code).toBe('E_DATA_CHANGED');
    expect((err as Error).message).toContain('records: 1 → 2');
    expect(fs.existsSync(path.join(dir, 'refused', 'checkpoint-last'))).toBe(false);

    const out = path.join(dir, 'accepted');
    await runTraining(config, context(out, dataFile, { acceptDataChange: true }));
    const provenance = JSON.parse(fs.readFileSync(path.join(out, 'checkpoint-last', 'model', 'provenance.json'), 'utf8')) as Provenance;
    expect(provenance.accepted_change).toEqual([{ file: dataFile, changed: expect.arrayContaining(['records: 1 → 2']) }]);
    expect(fs.readFileSync(path.join(out, 'checkpoint-last', 'model', 'README.md'), 'utf8')).toContain('--accept-data-change');
  });

  test('licences the recipe marks incompatible in one training mixture: a warning, printed and in provenance.json', async () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'mmft-prov-run-'));
    const [a, b] = [path.join(dir, 'a.jsonl'), path.join(dir, 'b.jsonl')];
    fs.writeFileSync(a, '{"caption":"a"}\n');
    fs.writeFileSync(b, '{"caption":"b"}\n');
    await writeDataManifest(a, { license: 'cc-by-nc-4.0' });
    await writeDataManifest(b, { license: 'apache-2.0' });
    const out = path.join(dir, 'run');
    const reporter = recordingReporter();
    const base = context(out, a, { reporter });
    // The memory dataset reads only its name; provenance walks `sources` as it does for a data mix.
    const recipe = {
      ...base.recipe,
      data: {
        train: {
          type: 'memory',
          name: 'train',
          sources: [
            { type: 'jsonl', path: a },
            { type: 'jsonl', path: b },
          ],
        },
      },
      trust: { incompatible_licenses: [['Apache-2.0', 'cc-by-nc-4.0']] },
    };
    await runTraining(config, { ...base, recipe });
    const warning =
      'licences apache-2.0 (b.jsonl) and cc-by-nc-4.0 (a.jsonl) are mixed in one training run, and trust.incompatible_licenses marks them incompatible';
    expect(reporter.lines).toContain(`warning: ${warning}`);
    const provenance = JSON.parse(fs.readFileSync(path.join(out, 'checkpoint-last', 'model', 'provenance.json'), 'utf8')) as Provenance;
    expect(provenance.licences).toEqual({ licenses: ['apache-2.0', 'cc-by-nc-4.0'], warnings: [warning] });
    expect(provenance.inputs.map((i) => i.role)).toEqual(['data.train.sources[0].path', 'data.train.sources[1].path']);
  });
});
