// `mmft card` regenerates a card from provenance.json (+ the checkpoint's trainer_state.json) and
// keeps the user's section; merge/quantize outputs get a provenance whose base chain is inlined.
import { describe, expect, test } from '@jest/globals';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { buildProvenance, INTENDED_USES_TODO, parseModelCard, provenanceChain, readProvenance, writeProvenance } from '@mmft/core/trust';
import { runCliForTest } from '../testing';
import { describeDerivedModel } from './card';

const tmp = () => fs.mkdtempSync(path.join(os.tmpdir(), 'mmft-card-'));
const recipe = (name: string) => ({
  path: `/r/${name}.yaml`,
  sha256: '0'.repeat(64),
  git: { none: 'no git' },
  resolved: { name, model: { type: 'clip' }, peft: { method: 'lora' } },
});
const trainStep = { kind: 'train' as const, steps: 1, total_steps: 4, samples: 2, seconds: 0.1, metrics: {} };

describe('mmft card', () => {
  test('rewrites README.md of model/ from provenance.json with the scores of trainer_state.json, keeping the user text', async () => {
    const ckpt = path.join(tmp(), 'checkpoint-last');
    const adapter = path.join(ckpt, 'adapter');
    fs.mkdirSync(adapter, { recursive: true });
    await writeProvenance(
      adapter,
      buildProvenance({
        recipe: recipe('clip-lora'),
        inputs: [{ role: 'data.eval', generator: 'shapes', settings: { seed: 0, n: 8 } }],
        base: null,
        data_manifests: [],
        steps: [trainStep],
        environment: {},
      }),
    );
    fs.writeFileSync(
      path.join(ckpt, 'trainer_state.json'),
      JSON.stringify({
        globalStep: 4,
        samplesSeen: 8,
        logHistory: [
          { kind: 'eval', step: 0, 'retrieval.r1': 0.25 },
          { kind: 'train', step: 4, loss: 1 },
          { kind: 'eval', step: 4, 'retrieval.r1': 0.75 },
        ],
      }),
    );
    const first = await runCliForTest(['card', ckpt]);
    expect(first).toMatchObject({ code: 0, stdout: `wrote ${path.join(adapter, 'README.md')}\n` });
    const text = fs.readFileSync(path.join(adapter, 'README.md'), 'utf8');
    const { data, body } = parseModelCard(text);
    expect(data.pipeline_tag).toBe('zero-shot-image-classification');
    expect(data['model-index']).toEqual([
      {
        name: 'clip-lora',
        results: [
          {
            task: { type: 'zero-shot-image-classification', name: 'Zero-Shot Image Classification' },
            dataset: { name: 'mmft-shapes', type: 'mmft-shapes', split: 'eval' },
            metrics: [{ type: 'retrieval.r1', value: 0.75, name: 'retrieval.r1' }],
          },
        ],
      },
    ]);
    expect(body).toContain('| retrieval.r1 | 0.25000 | 0.75000 | 0.50000 |');
    expect(body).toContain('- **Steps:** 4 of 4');

    fs.writeFileSync(path.join(adapter, 'README.md'), text.replace(INTENDED_USES_TODO, 'Toy shapes only.'));
    expect((await runCliForTest(['card', adapter])).code).toBe(0);
    const again = fs.readFileSync(path.join(adapter, 'README.md'), 'utf8');
    expect(again).toContain('## Intended uses & limitations\n\nToy shapes only.\n');
    expect(again).not.toContain(INTENDED_USES_TODO);
  });

  test('a folder without provenance.json is refused with what to give instead', async () => {
    const r = await runCliForTest(['card', tmp()]);
    expect(r.code).not.toBe(0);
    expect(r.stderr).toMatch(/has no provenance\.json, nor model\/ or adapter\/ folders holding one/);
  });

  test("merge output: the base inlined, the adapter run's recipe and data carried over, the merge step appended", async () => {
    const root = tmp();
    const base = path.join(root, 'base');
    const adapter = path.join(root, 'adapter');
    const out = path.join(root, 'merged');
    for (const d of [base, adapter, out]) fs.mkdirSync(d);
    fs.writeFileSync(path.join(base, 'config.json'), '{"model_type":"clip"}');
    fs.writeFileSync(path.join(adapter, 'adapter_config.json'), '{"peft_type":"LORA"}');
    await writeProvenance(
      base,
      buildProvenance({ recipe: recipe('pretrain'), inputs: [], base: null, data_manifests: [], steps: [trainStep], environment: {} }),
    );
    const input = { role: 'data.train.path', path: '/d/t.jsonl', sha256: '1'.repeat(64), bytes: 3, records: 1, license: 'mit' };
    await writeProvenance(
      adapter,
      buildProvenance({
        recipe: recipe('clip-lora'),
        inputs: [input],
        base: null,
        data_manifests: [],
        steps: [trainStep],
        environment: {},
      }),
    );
    await describeDerivedModel(out, { step: { kind: 'merge', model_type: 'clip', peft_type: 'LORA' }, base, adapter });
    const p = (await readProvenance(out))!;
    expect(p.steps.map((s) => s.kind)).toEqual(['train', 'merge']);
    expect(p.inputs).toEqual([input]);
    expect(provenanceChain(p).map((c) => c.provenance.recipe?.path)).toEqual(['/r/clip-lora.yaml', '/r/pretrain.yaml']);
    const { data, body } = parseModelCard(fs.readFileSync(path.join(out, 'README.md'), 'utf8'));
    expect(data).toMatchObject({ base_model: 'pretrain', license: 'mit', tags: ['mmft', 'clip', 'lora'] });
    expect(body).toContain('A model with a lora adapter merged in (clip) from `pretrain`');
  });
});
