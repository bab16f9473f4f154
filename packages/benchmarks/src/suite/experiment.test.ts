// The shipped experiment files validate against the plugins' own schemas, the suites hold what
// docs/benchmarks.md describes, and a broken file fails with the field named.
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { beforeAll, describe, expect, test } from '@jest/globals';
import type { PluginRegistry } from '@mmft/core';
import { EXPERIMENTS_DIR, loadExperiment, loadExperiments } from './experiment';
import { benchRegistry } from './registry';

let registry: PluginRegistry;
beforeAll(async () => {
  registry = await benchRegistry();
});

function writeTemp(name: string, text: string): string {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'mmft-bench-exp-'));
  fs.copyFileSync(path.join(EXPERIMENTS_DIR, '_clip-small.yaml'), path.join(dir, '_clip-small.yaml'));
  fs.writeFileSync(path.join(dir, name), text);
  return path.join(dir, name);
}

describe('experiment files', () => {
  test('every shipped experiment validates; bases are skipped', () => {
    const all = loadExperiments(registry);
    expect(all.map((e) => e.name)).not.toContain('_clip-small');
    expect(all.length).toBeGreaterThanOrEqual(10);
    for (const e of all) expect(e.recipe.selections.length).toBeGreaterThan(0);
  });

  test('the quick suite has full fine-tune and LoRA with the peer, embeddings, data and metrics', () => {
    const quick = loadExperiments(registry, { suite: 'quick' });
    const byName = new Map(quick.map((e) => [e.name, e.bench]));
    expect(byName.get('clip-small-full')).toMatchObject({ kind: 'train', peer: 'torch', profile: true });
    expect(byName.get('clip-small-lora')).toMatchObject({ kind: 'train', peer: 'torch' });
    expect(new Set(quick.map((e) => e.bench.kind))).toEqual(new Set(['train', 'embed', 'data', 'metrics']));
  });

  test('the small CLIP has the sizes of the issue and LoRA targets q_proj/v_proj with r=8', () => {
    const lora = loadExperiment(path.join(EXPERIMENTS_DIR, 'clip-small-lora.yaml'), registry);
    const config = (lora.recipe.value.model as { config: Record<string, Record<string, number>> }).config;
    expect(config.vision_config).toMatchObject({ image_size: 64, patch_size: 8, hidden_size: 128, num_hidden_layers: 4 });
    expect(config.text_config).toMatchObject({ hidden_size: 128, num_hidden_layers: 4, max_position_embeddings: 32 });
    expect(lora.recipe.value.peft).toMatchObject({ method: 'lora', r: 8, target_modules: ['q_proj', 'v_proj'] });
    expect(lora.recipe.value.train).toMatchObject({ batch_size: 32 });
  });

  test('a bad bench block names the field', () => {
    const file = writeTemp('bad.yaml', 'extends: _clip-small.yaml\nbench: { kind: speed, suites: [quick], title: x }\n');
    expect(() => loadExperiment(file, registry)).toThrow(/bench\.kind/);
  });

  test('a bad recipe section is reported by the plugin schema with file and line', () => {
    const file = writeTemp(
      'bad-lora.yaml',
      'extends: _clip-small.yaml\npeft: { method: lora, r: -1 }\nbench: { kind: train, suites: [quick], title: x }\n',
    );
    expect(() => loadExperiment(file, registry)).toThrow(/peft\.r: .*bad-lora\.yaml:2/);
  });

  test('a file without bench: is refused', () => {
    const file = writeTemp('plain.yaml', 'extends: _clip-small.yaml\n');
    expect(() => loadExperiment(file, registry)).toThrow(/needs a bench: block/);
  });
});
