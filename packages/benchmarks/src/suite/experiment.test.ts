// The shipped experiment files validate against the plugins' own schemas, the suites hold what
// docs/benchmarks.md describes, and a broken file fails with the field named.
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { beforeAll, describe, expect, test } from '@jest/globals';
import type { PluginRegistry } from '@mmft/core';
import { EXPERIMENTS_DIR, isLmExperiment, loadExperiment, loadExperiments, type Experiment } from './experiment';
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
    expect(all.map((e) => e.name)).not.toContain('_llama-small');
    expect(all.length).toBeGreaterThanOrEqual(10);
    for (const e of all) expect(e.recipe.selections.length).toBeGreaterThan(0);
  });

  test('the quick suite has full fine-tune and LoRA with the peer, embeddings, data and metrics', () => {
    const quick = loadExperiments(registry, { suite: 'quick' });
    const byName = new Map(quick.map((e) => [e.name, e.bench]));
    expect(byName.get('clip-small-full')).toMatchObject({ kind: 'train', peer: 'torch', profile: true });
    expect(byName.get('clip-small-lora')).toMatchObject({ kind: 'train', peer: 'torch' });
    expect(new Set(quick.map((e) => e.bench.kind))).toEqual(new Set(['train', 'embed', 'data', 'metrics', 'decode']));
    expect(byName.get('llama-small-full')).toMatchObject({ kind: 'train', peer: 'torch', text_length: 128 });
    expect(byName.get('llama-small-decode-b1')).toMatchObject({ kind: 'decode', peer: 'torch', batch_size: 1 });
  });

  test('causal LMs: full and LoRA training, prefill and decode at batch 1 and 8, for a Llama and an OPT, all with the peer', () => {
    const byName = new Map(loadExperiments(registry).map((e) => [e.name, e] as const));
    for (const arch of ['llama', 'opt']) {
      for (const method of ['full', 'lora']) {
        const e = byName.get(`${arch}-small-${method}`)!;
        expect(isLmExperiment(e)).toBe(true);
        expect(e.bench).toMatchObject({ kind: 'train', peer: 'torch', text_length: 128 });
        expect(e.recipe.value.train).toMatchObject({ batch_size: 8, lr: 1e-3, max_grad_norm: 1 });
        expect(e.recipe.value.objective).toMatchObject({ type: 'causal-lm' });
        if (method === 'lora')
          expect(e.recipe.value.peft).toMatchObject({ method: 'lora', r: 8, lora_dropout: 0, target_modules: ['q_proj', 'v_proj'] });
        else expect(e.recipe.value.peft).toBeUndefined();
      }
      for (const kind of ['prefill', 'decode'] as const) {
        for (const batch of [1, 8]) {
          const e = byName.get(`${arch}-small-${kind}-b${batch}`)!;
          expect(isLmExperiment(e)).toBe(true);
          expect(e.bench).toMatchObject({ kind, peer: 'torch', batch_size: batch, text_length: 64, new_tokens: 32 });
        }
      }
    }
    expect(isLmExperiment(byName.get('clip-small-full')!)).toBe(false);
  });

  test('the small Llama and OPT have the shapes docs/benchmarks.md gives', () => {
    const configOf = (name: string) =>
      (loadExperiment(path.join(EXPERIMENTS_DIR, `${name}.yaml`), registry).recipe.value.model as { config: object }).config;
    expect(configOf('llama-small-full')).toMatchObject({
      vocab_size: 4096,
      hidden_size: 256,
      intermediate_size: 688,
      num_hidden_layers: 4,
      num_attention_heads: 8,
      num_key_value_heads: 4,
      tie_word_embeddings: false,
    });
    expect(configOf('opt-small-decode-b8')).toMatchObject({
      vocab_size: 4096,
      hidden_size: 256,
      ffn_dim: 1024,
      num_hidden_layers: 4,
      num_attention_heads: 4,
      dropout: 0,
      tie_word_embeddings: true,
    });
  });

  test('the small CLIP has the sizes of the issue and LoRA targets q_proj/v_proj with r=8', () => {
    const lora = loadExperiment(path.join(EXPERIMENTS_DIR, 'clip-small-lora.yaml'), registry);
    const config = (lora.recipe.value.model as { config: Record<string, Record<string, number>> }).config;
    expect(config.vision_config).toMatchObject({ image_size: 64, patch_size: 8, hidden_size: 128, num_hidden_layers: 4 });
    expect(config.text_config).toMatchObject({ hidden_size: 128, num_hidden_layers: 4, max_position_embeddings: 32 });
    expect(lora.recipe.value.peft).toMatchObject({ method: 'lora', r: 8, target_modules: ['q_proj', 'v_proj'] });
    expect(lora.recipe.value.train).toMatchObject({ batch_size: 32 });
  });

  test('memory rows: references name rows of the same table; a row without checkpointing differs from its reference only there', () => {
    const all = loadExperiments(registry);
    const byName = new Map(all.map((e) => [e.name, e] as const));
    const rows = all.filter((e) => e.bench.memory !== undefined);
    expect(rows.map((e) => e.name)).toEqual(
      expect.arrayContaining(['clip-small-full', 'clip-small-lora', 'llama-small-s256-full', 'llava-small-lora']),
    );
    for (const e of rows) {
      const { table, full, without_checkpointing } = e.bench.memory!;
      for (const ref of [full, without_checkpointing].filter((x): x is string => x !== undefined)) {
        expect([e.name, ref, byName.get(ref)?.bench.memory?.table]).toEqual([e.name, ref, table]);
        expect(byName.get(ref)!.bench.kind).toBe('train');
      }
      const train = e.recipe.value.train as Record<string, unknown>;
      if (without_checkpointing !== undefined) {
        const plain = byName.get(without_checkpointing)!;
        expect(train.gradient_checkpointing ?? false).not.toBe(false);
        expect((plain.recipe.value.train as Record<string, unknown>).gradient_checkpointing ?? false).toBe(false);
        const frozen = (x: Experiment) => (x.recipe.value.train as Record<string, unknown>).frozen_dtype ?? 'f32';
        expect([e.recipe.value.model, e.recipe.value.peft, e.bench.text_length, frozen(e)]).toEqual([
          plain.recipe.value.model,
          plain.recipe.value.peft,
          plain.bench.text_length,
          frozen(plain),
        ]);
      }
      if (full !== undefined) expect(byName.get(full)!.recipe.value.peft).toBeUndefined();
    }
    expect(byName.get('llama-small-s256-lora')!.bench).toMatchObject({ text_length: 256 });
    expect(rows.map((e) => e.name).sort()).toEqual([
      'clip-small-full',
      'clip-small-lora',
      'clip-small-lora-ckpt',
      'clip-small-lora-ckpt-bf16',
      'llama-small-s256-full',
      'llama-small-s256-lora',
      'llama-small-s256-lora-ckpt',
      'llava-small-lora',
      'llava-small-lora-ckpt',
    ]);
    const bf16 = byName.get('clip-small-lora-ckpt-bf16')!;
    expect(bf16.recipe.value.train).toMatchObject({ gradient_checkpointing: true, frozen_dtype: 'bf16', batch_size: 32 });
    expect(bf16.recipe.value.peft).toEqual(byName.get('clip-small-lora')!.recipe.value.peft);
    expect(bf16.bench).toMatchObject({
      peer: 'torch',
      suites: ['full'],
      group: 'memory',
      memory: { full: 'clip-small-full', peak_goal: 0.5 },
    });
    expect(byName.get('llama-small-s256-lora-ckpt')!.bench.memory).toMatchObject({ peak_goal: 0.35 });
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
