// What `mmft import` picks in an engine's output folder, who it says wrote it, which files of a full
// checkpoint it copies, and how a regex target_modules becomes a list: on hand-made folders (no model).
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { afterEach, beforeEach, describe, expect, test } from '@jest/globals';
import { writeSafetensors } from '@mmft/core/io';
import { detectEngine, findManifest } from './engine';
import { listCheckpoints, locateImport } from './locate';
import { modelFilesOf } from './model-files';
import { explicitTargets } from './targets';

let tmp: string;
beforeEach(() => {
  tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'mmft-import-locate-'));
});
afterEach(() => fs.rmSync(tmp, { recursive: true, force: true }));

function touch(rel: string, text = '{}'): string {
  const file = path.join(tmp, rel);
  fs.mkdirSync(path.dirname(file), { recursive: true });
  fs.writeFileSync(file, text);
  return file;
}
const adapter = (dir: string) => touch(`${dir}/adapter_config.json`, '{"peft_type":"LORA"}');

describe('locateImport', () => {
  test('the folder itself wins over its checkpoints; else the highest checkpoint number, not the last in name order', () => {
    for (const n of [9, 10, 100]) adapter(`out/checkpoint-${n}`);
    fs.mkdirSync(path.join(tmp, 'out', 'checkpoint-200')); // empty: an interrupted save is skipped
    expect(locateImport(path.join(tmp, 'out'))).toMatchObject({ checkpoint: 'checkpoint-100', kind: 'adapter' });
    touch('out/config.json');
    touch('out/model.safetensors.index.json');
    const own = locateImport(path.join(tmp, 'out'));
    expect([own.dir, own.kind, own.checkpoint]).toEqual([path.join(tmp, 'out'), 'model', undefined]);
    expect(listCheckpoints(path.join(tmp, 'out'))).toEqual(['checkpoint-200', 'checkpoint-100', 'checkpoint-10', 'checkpoint-9']);
  });

  test('ms-swift: the highest v<N> that holds a checkpoint; --checkpoint searches the version folders', () => {
    adapter('o/v2-20261207-101010/checkpoint-5');
    adapter('o/v11-20261201-000000/checkpoint-1');
    fs.mkdirSync(path.join(tmp, 'o', 'v12-20261208-000000')); // started, nothing saved yet
    expect(locateImport(path.join(tmp, 'o')).checkpoint).toBe('v11-20261201-000000/checkpoint-1');
    expect(locateImport(path.join(tmp, 'o'), 'checkpoint-5').checkpoint).toBe('v2-20261207-101010/checkpoint-5');
  });

  test('folders that cannot be imported say why', () => {
    touch('bin/adapter_model.bin', 'x');
    expect(() => locateImport(path.join(tmp, 'bin'))).toThrow(/holds PyTorch \.bin weights only; mmft reads safetensors/);
    touch('ds/global_step4/mp_rank_00_model_states.pt', 'x');
    expect(() => locateImport(path.join(tmp, 'ds'))).toThrow(/DeepSpeed shards only \(global_step\*\/\); run its zero_to_fp32\.py/);
    expect(() => locateImport(path.join(tmp, 'missing'))).toThrow(`${path.join(tmp, 'missing')}: no such folder`);
  });
});

describe('detectEngine', () => {
  test('args.json → ms-swift; trainer_log.jsonl → LLaMA-Factory; the manifest names its target; trainer files → Trainer', () => {
    adapter('s/v0-1/checkpoint-2');
    touch('s/v0-1/checkpoint-2/args.json', '{"model":"/m"}');
    const swift = detectEngine(path.join(tmp, 's/v0-1/checkpoint-2'), path.join(tmp, 's'));
    expect(swift).toMatchObject({ engine: 'ms-swift', swiftModel: '/m', evidence: [path.join(tmp, 's/v0-1/checkpoint-2/args.json')] });

    adapter('b/output/checkpoint-3');
    touch('b/output/checkpoint-3/trainer_state.json', '{"global_step":3}');
    const plain = detectEngine(path.join(tmp, 'b/output/checkpoint-3'), path.join(tmp, 'b/output'));
    expect(plain).toMatchObject({ engine: 'Hugging Face Trainer', step: 3 });
    touch('b/mmft-handoff.json', JSON.stringify({ target: { id: 'accelerate', engine: 'Hugging Face accelerate' }, output: 'output' }));
    expect(detectEngine(path.join(tmp, 'b/output/checkpoint-3'), path.join(tmp, 'b/output'))).toMatchObject({
      engine: 'Hugging Face accelerate',
      step: 3,
    });
    touch('b/output/trainer_log.jsonl', '');
    expect(detectEngine(path.join(tmp, 'b/output/checkpoint-3'), path.join(tmp, 'b/output')).engine).toBe('LLaMA-Factory');
    expect(findManifest(path.join(tmp, 'b/output/checkpoint-3'))).toMatchObject({ target: 'accelerate', output: 'output' });
    expect(detectEngine(path.join(tmp, 's/v0-1/checkpoint-2'), path.join(tmp, 's'))).toMatchObject({ manifest: undefined });
  });
});

describe('modelFilesOf', () => {
  test('config, shards named by the index, tokenizer and processor files; trainer state stays', () => {
    for (const f of ['config.json', 'tokenizer.json', 'chat_template.jinja', 'preprocessor_config.json', 'optimizer.pt', 'scheduler.pt'])
      touch(`m/${f}`);
    for (const f of ['model-00001-of-00002.safetensors', 'model-00002-of-00002.safetensors']) touch(`m/${f}`, '');
    touch(
      'm/model.safetensors.index.json',
      JSON.stringify({ weight_map: { a: 'model-00001-of-00002.safetensors', b: 'model-00002-of-00002.safetensors' } }),
    );
    expect(modelFilesOf(path.join(tmp, 'm'))).toEqual({
      files: [
        'chat_template.jinja',
        'config.json',
        'model-00001-of-00002.safetensors',
        'model-00002-of-00002.safetensors',
        'model.safetensors.index.json',
        'preprocessor_config.json',
        'tokenizer.json',
      ],
      weights: ['model-00001-of-00002.safetensors', 'model-00002-of-00002.safetensors'],
      skipped: ['optimizer.pt', 'scheduler.pt'],
    });
    fs.rmSync(path.join(tmp, 'm/model-00002-of-00002.safetensors'));
    expect(() => modelFilesOf(path.join(tmp, 'm'))).toThrow(/names shards that are not in .*: model-00002-of-00002\.safetensors/);
  });
});

describe('explicitTargets', () => {
  test('a regex or condensed suffixes become the modules the LoRA tensors name; bare or full lists and all-linear stay; exclude_modules only if present', async () => {
    const file = path.join(tmp, 'adapter_model.safetensors');
    const t = { dtype: 'F32' as const, shape: [1, 1], data: new Float32Array(1) };
    await writeSafetensors(
      file,
      new Map([
        ['base_model.model.model.language_model.layers.0.self_attn.q_proj.lora_A.weight', t],
        ['base_model.model.model.language_model.layers.0.self_attn.q_proj.lora_B.weight', t],
        ['base_model.model.model.language_model.layers.1.mlp.down_proj.lora_A.weight', t],
        ['base_model.model.model.multi_modal_projector.linear_1.weight', t],
      ]),
    );
    const regex = { peft_type: 'LORA', target_modules: '^(model\\.language_model.*)$' };
    expect(explicitTargets(regex, file)).toEqual({
      config: {
        ...regex,
        target_modules: ['model.language_model.layers.0.self_attn.q_proj', 'model.language_model.layers.1.mlp.down_proj'],
      },
      modules: ['model.language_model.layers.0.self_attn.q_proj', 'model.language_model.layers.1.mlp.down_proj'],
    });
    expect(explicitTargets({ ...regex, exclude_modules: 'vision' }, file)?.config.exclude_modules).toBeNull();
    expect(explicitTargets({ peft_type: 'LORA', target_modules: ['q_proj'] }, file)).toBeUndefined();
    // PEFT's condensed suffixes start inside the path: listed in full. A list of the full names already stays.
    const condensed = { peft_type: 'LORA', target_modules: ['language_model.layers.0.self_attn.q_proj', 'down_proj'] };
    expect(explicitTargets(condensed, file)?.modules).toEqual([
      'model.language_model.layers.0.self_attn.q_proj',
      'model.language_model.layers.1.mlp.down_proj',
    ]);
    const full = ['model.language_model.layers.1.mlp.down_proj', 'model.language_model.layers.0.self_attn.q_proj'];
    expect(explicitTargets({ peft_type: 'LORA', target_modules: full }, file)).toBeUndefined();
    // A name that no tensor adapts is the loader's to report (missing keys), not hidden by a rewrite.
    expect(explicitTargets({ peft_type: 'LORA', target_modules: [...full, 'layers.5.mlp.up_proj'] }, file)).toBeUndefined();
    expect(explicitTargets({ peft_type: 'LORA', target_modules: 'all-linear' }, file)).toBeUndefined();
  });
});
