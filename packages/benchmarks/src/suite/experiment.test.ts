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
      'llama-wide-full-ckpt',
      'llama-wide-lora64-ckpt',
      'llama-wide-qlora-ckpt',
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

  test('QLoRA rows: the QLoRA row is its LoRA-f32 row plus model.quantization, all three checkpointed at one batch; no peer for QLoRA', () => {
    const all = loadExperiments(registry);
    const byName = new Map(all.map((e) => [e.name, e] as const));
    const qlora = all.filter((e) => e.bench.memory?.lora_f32 !== undefined);
    expect(qlora.map((e) => e.name)).toEqual(['llama-wide-qlora-ckpt']);
    const q = qlora[0]!;
    const lora = byName.get(q.bench.memory!.lora_f32!)!;
    const full = byName.get(q.bench.memory!.full!)!;
    const { quantization, ...qModel } = q.recipe.value.model as Record<string, unknown>;
    expect(quantization).toEqual({ load_in_4bit: true, quant_type: 'nf4', double_quant: true, block_size: 64, compute_dtype: 'float32' });
    expect(qModel).toEqual(lora.recipe.value.model);
    expect(full.recipe.value.model).toEqual(lora.recipe.value.model);
    expect(q.recipe.value.peft).toEqual(lora.recipe.value.peft);
    expect(lora.recipe.value.peft).toMatchObject({
      r: 64,
      lora_alpha: 16,
      target_modules: ['q_proj', 'k_proj', 'v_proj', 'o_proj', 'gate_proj', 'up_proj', 'down_proj'],
    });
    for (const e of [q, lora, full]) {
      expect(e.recipe.value.train).toMatchObject({ gradient_checkpointing: true, batch_size: 2 });
      expect([e.bench.text_length, e.bench.memory!.table]).toEqual([128, q.bench.memory!.table]);
    }
    expect([q.bench.peer, lora.bench.peer, full.bench.peer]).toEqual(['none', 'torch', 'torch']);
    // 101.2 M parameters (what the model builds, measured): embeddings and head 2·4096·1024, per layer q, o 1024², k, v 1024·512, MLP 3·1024·2752, two norms; the final norm.
    const config = (lora.recipe.value.model as { config: Record<string, number> }).config;
    const { hidden_size: d, intermediate_size: i, num_hidden_layers: l, vocab_size: v } = config;
    const kv = (d! / config.num_attention_heads!) * config.num_key_value_heads!;
    expect(2 * v! * d! + l! * (2 * d! * d! + 2 * d! * kv + 3 * d! * i! + 2 * d!) + d!).toBe(101_204_992);
  });

  test('kernel rows (name order): a training shape both ways and two decoding shapes, all NF4 + double quant at block 64', () => {
    const kernels = loadExperiments(registry).filter((e) => e.bench.kind === 'kernel');
    expect(kernels.map((e) => [e.name, e.bench.matmul4bit])).toEqual([
      [
        'kernel-matmul4bit-1024-dx',
        { m: 1024, n: 1024, k: 1024, transpose_weight: false, quant_type: 'nf4', block_size: 64, double_quant: true },
      ],
      [
        'kernel-matmul4bit-1024',
        { m: 1024, n: 1024, k: 1024, transpose_weight: true, quant_type: 'nf4', block_size: 64, double_quant: true },
      ],
      [
        'kernel-matmul4bit-m1-1024',
        { m: 1, n: 1024, k: 1024, transpose_weight: true, quant_type: 'nf4', block_size: 64, double_quant: true },
      ],
      [
        'kernel-matmul4bit-m1-4096',
        { m: 1, n: 4096, k: 4096, transpose_weight: true, quant_type: 'nf4', block_size: 64, double_quant: true },
      ],
    ]);
  });

  test('bench.matmul4bit belongs to kind kernel, and kind kernel needs it', () => {
    const noShape = writeTemp('k.yaml', 'bench: { kind: kernel, suites: [full], title: x }\n');
    expect(() => loadExperiment(noShape, registry)).toThrow(/bench\.matmul4bit: a kernel row needs bench\.matmul4bit/);
    const onTrain = writeTemp(
      't.yaml',
      'extends: _clip-small.yaml\nbench: { kind: train, suites: [full], title: x, matmul4bit: { m: 1, n: 2, k: 3 } }\n',
    );
    expect(() => loadExperiment(onTrain, registry)).toThrow(/bench\.matmul4bit: only kind kernel reads bench\.matmul4bit, not kind train/);
    const badShape = writeTemp('b.yaml', 'bench: { kind: kernel, suites: [full], title: x, matmul4bit: { m: 0, n: 2, k: 3 } }\n');
    expect(() => loadExperiment(badShape, registry)).toThrow(/bench\.matmul4bit\.m/);
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
