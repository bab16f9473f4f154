import { describe, expect, test } from '@jest/globals';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import type { HandoffLaunch, HandoffPlan } from '@mmft/core';
import { HANDOFF_DATA, describeHandoffTarget, handoffBundleDir, handoffLaunch, llavaHandoffPlan } from '@mmft/core/testing';
import { DATASET_INFO_KEYS, LLAMAFACTORY_KEYS } from './known-keys';
import { llamaFactoryTarget } from './plugin';
import { llamaFactoryTemplate } from './template';
import { yamlScalar } from './yaml';

// PyYAML's implicit float (yaml/resolver.py, YAML 1.1): a dot is required, an exponent needs a sign;
// "1e-8" would load as the string "1e-8" and HfArgumentParser would refuse it.
const PYYAML_FLOAT = /^[-+]?(?:[0-9][0-9_]*)\.[0-9_]*(?:[eE][-+][0-9]+)?$/;
const PYYAML_INT = /^[-+]?(?:0|[1-9][0-9_]*)$/;

/** train.yaml as key → raw scalar text (the writer emits flat `key: scalar  # comment` lines). */
function readYaml(text: string): Map<string, string> {
  const out = new Map<string, string>();
  for (const line of text.split('\n')) {
    if (line === '' || line.startsWith('#')) continue;
    const m = /^([a-z0-9_]+): (.*?)(?: {2}# .*)?$/.exec(line);
    if (!m) throw new Error(`not a flat yaml line: ${line}`);
    expect(out.has(m[1]!)).toBe(false);
    out.set(m[1]!, m[2]!);
  }
  return out;
}
const value = (raw: string): unknown => JSON.parse(raw);

const plan: HandoffPlan = llavaHandoffPlan({}, '/m/llava-shapes-base');
const data = HANDOFF_DATA;
const launch: HandoffLaunch = handoffLaunch({ gpus: 8 });

const GOOD = {
  messages: [
    { role: 'user', content: '<image>\nQ' },
    { role: 'assistant', content: 'A' },
  ],
  images: ['images/a.png'],
};

async function bundle(p: HandoffPlan = plan, l: HandoffLaunch = launch, trainRows: readonly object[] = [GOOD]) {
  const dir = handoffBundleDir('mmft-lf-', { train: trainRows, eval: [GOOD] });
  const result = await llamaFactoryTarget.write(p, data, l, dir, llamaFactoryTarget.configSchema.parse({}) as never);
  return { dir, result, yaml: readYaml(fs.readFileSync(path.join(dir, 'train.yaml'), 'utf8')) };
}

describe('LLaMA-Factory bundle', () => {
  test('every train.yaml key is one LLaMA-Factory accepts, and every number loads back as a number in PyYAML', async () => {
    const { yaml } = await bundle();
    for (const [key, raw] of yaml) {
      expect([key, LLAMAFACTORY_KEYS.has(key)]).toEqual([key, true]);
      const v = value(raw);
      if (typeof v === 'number') expect([key, PYYAML_FLOAT.test(raw) || PYYAML_INT.test(raw)]).toEqual([key, true]);
    }
  });

  test('the LLaVA LoRA recipe gives the values a LLaMA-Factory user would write', async () => {
    const { yaml, dir, result } = await bundle();
    const got = Object.fromEntries([...yaml].map(([k, raw]) => [k, value(raw)]));
    expect(got).toMatchObject({
      model_name_or_path: '/m/llava-shapes-base',
      stage: 'sft',
      do_train: true,
      finetuning_type: 'lora',
      lora_rank: 16,
      lora_alpha: 32,
      lora_dropout: 0,
      // all-linear minus the vision tower = LLaMA-Factory's "all" with freeze_vision_tower.
      lora_target: 'all',
      additional_target: 'multi_modal_projector',
      freeze_vision_tower: true,
      freeze_multi_modal_projector: false,
      freeze_language_model: false,
      template: 'llava',
      dataset_dir: 'data',
      dataset: 'mmft_train',
      eval_dataset: 'mmft_eval',
      cutoff_len: 256,
      default_system: '',
      output_dir: 'output',
      // 16 examples per step over 8 GPUs.
      per_device_train_batch_size: 2,
      gradient_accumulation_steps: 1,
      learning_rate: 0.002,
      lr_scheduler_type: 'cosine',
      warmup_steps: 10,
      max_steps: 900,
      adam_epsilon: 1e-8,
      max_grad_norm: 1,
      bf16: true,
      deepspeed: 'ds_z2_config.json',
      disable_gradient_checkpointing: true,
      seed: 0,
      logging_steps: 25,
      save_strategy: 'no',
      eval_strategy: 'steps',
      eval_steps: 900,
    });
    expect(got.num_train_epochs).toBeUndefined();
    expect(yaml.get('adam_epsilon')).toBe('1.0e-8');
    const ds = JSON.parse(fs.readFileSync(path.join(dir, 'ds_z2_config.json'), 'utf8'));
    expect(ds.zero_optimization.stage).toBe(2);
    expect(ds.train_micro_batch_size_per_gpu).toBe('auto');
    expect(result.gaps).toEqual([{ field: 'train.lr_groups.0', why: expect.stringContaining('projector') }]);
    expect(result.output).toBe('output');
    expect([...result.files].sort()).toEqual(['data/dataset_info.json', 'ds_z2_config.json', 'launch.sh', 'train.yaml']);
    const launchSh = fs.readFileSync(path.join(dir, 'launch.sh'), 'utf8');
    expect(launchSh).toContain('export FORCE_TORCHRUN=1\nllamafactory-cli train train.yaml\n');
    for (const name of ['NNODES', 'NODE_RANK', 'MASTER_ADDR', 'MASTER_PORT', 'NPROC_PER_NODE'])
      expect(launchSh).toMatch(new RegExp(`export ${name}=`));
    expect(fs.statSync(path.join(dir, 'launch.sh')).mode & 0o111).not.toBe(0);
  });

  test("dataset_info.json names the rows as LLaMA-Factory's sharegpt dataset with role/content tags", async () => {
    const { dir } = await bundle();
    const info = JSON.parse(fs.readFileSync(path.join(dir, 'data/dataset_info.json'), 'utf8')) as Record<
      string,
      Record<string, Record<string, string>>
    >;
    expect(Object.keys(info)).toEqual(['mmft_train', 'mmft_eval']);
    expect(info.mmft_train).toEqual({
      file_name: 'train.jsonl',
      formatting: 'sharegpt',
      columns: { messages: 'messages', images: 'images' },
      tags: { role_tag: 'role', content_tag: 'content', user_tag: 'user', assistant_tag: 'assistant', system_tag: 'system' },
    });
    for (const entry of Object.values(info)) {
      for (const k of Object.keys(entry)) expect(DATASET_INFO_KEYS.entry).toContain(k);
      for (const k of Object.keys(entry.columns!)) expect(DATASET_INFO_KEYS.columns).toContain(k);
      for (const k of Object.keys(entry.tags!)) expect(DATASET_INFO_KEYS.tags).toContain(k);
    }
    expect(info.mmft_eval!.file_name).toBe('eval.jsonl');
  });

  test('QLoRA, epochs, full fine-tuning, FSDP over 2 nodes and an uneven batch', async () => {
    const qlora: HandoffPlan = {
      ...plan,
      model: { ...plan.model, quantization: { bits: 4, quantType: 'nf4', doubleQuant: true } },
      train: { ...plan.train, maxSteps: undefined, epochs: 2, batchSize: 3, gradAccum: 1, lrGroups: [] },
    };
    const { yaml, dir, result } = await bundle(qlora, { gpus: 2, nodes: 2, strategy: 'fsdp', precision: 'fp16', outputDir: 'output' });
    expect(Object.fromEntries([...yaml].map(([k, raw]) => [k, value(raw)]))).toMatchObject({
      quantization_bit: 4,
      quantization_method: 'bnb',
      quantization_type: 'nf4',
      double_quantization: true,
      num_train_epochs: 2,
      fp16: true,
      per_device_train_batch_size: 1,
      gradient_accumulation_steps: 1,
      eval_strategy: 'epoch',
    });
    expect(yaml.has('deepspeed')).toBe(false);
    expect(result.gaps.map((g) => g.field)).toEqual(['train.batch_size']);
    expect(fs.readFileSync(path.join(dir, 'accelerate_config.yaml'), 'utf8')).toContain('distributed_type: "FSDP"');
    expect(fs.readFileSync(path.join(dir, 'launch.sh'), 'utf8')).toContain('accelerate launch --config_file accelerate_config.yaml');

    const full = await bundle({ ...plan, peft: undefined, freeze: { vision: true, projector: false, language: false } });
    expect(value(full.yaml.get('finetuning_type')!)).toBe('full');
    expect(full.yaml.has('lora_target')).toBe(false);
  });

  test('a template LLaMA-Factory has no LLaVA match for, and a regex target, are errors saying what to do', async () => {
    await expect(bundle({ ...plan, template: 'chatml' })).rejects.toThrow(/objective.template "chatml" on model_type "llava"/);
    await expect(bundle({ ...plan, peft: { ...plan.peft!, targetModules: '.*q_proj' } })).rejects.toThrow(/is a regex/);
  });

  test('rows LLaMA-Factory would skip (roles out of turn, a last user turn) are reported as a gap with the first line', async () => {
    const sys = { role: 'system', content: 'S' };
    const rows = [
      GOOD,
      { ...GOOD, messages: [sys, ...GOOD.messages] },
      { ...GOOD, messages: [GOOD.messages[0], GOOD.messages[0], GOOD.messages[1]] },
      { ...GOOD, messages: [...GOOD.messages, GOOD.messages[0]] },
    ];
    const { result } = await bundle({ ...plan, train: { ...plan.train, lrGroups: [] } }, launch, rows);
    expect(result.gaps).toEqual([{ field: 'data.train', why: expect.stringMatching(/^2 rows of data\/train.jsonl \(first: line 3\)/) }]);
  });

  test('all-linear without modules_to_save would put LoRA on the projector, which LLaMA-Factory\'s "all" leaves out: a gap', async () => {
    const { result } = await bundle({
      ...plan,
      freeze: { vision: true, projector: false, language: false },
      peft: { ...plan.peft!, modulesToSave: [] },
      train: { ...plan.train, lrGroups: [] },
    });
    expect(result.gaps.map((g) => g.field)).toEqual(['peft.target_modules']);
  });

  test("template chat on a text model picks LLaMA-Factory's template by the markers the tokenizer's chat_template writes", () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'mmft-lf-tok-'));
    const text = { ...plan, template: 'chat', model: { ...plan.model, localPath: dir, modelType: 'llama' } };
    expect(llamaFactoryTemplate(text)).toEqual({});
    fs.writeFileSync(
      path.join(dir, 'tokenizer_config.json'),
      JSON.stringify({ chat_template: "{{ bos_token + '[INST] ' + m + ' [/INST]' }}" }),
    );
    expect(llamaFactoryTemplate(text).name).toBe('llama2');
    fs.writeFileSync(path.join(dir, 'chat_template.jinja'), '<|start_header_id|>user<|end_header_id|>');
    expect(llamaFactoryTemplate(text).name).toBe('llama3');
    expect(llamaFactoryTemplate({ ...text, template: 'vicuna_v1' }).name).toBe('vicuna');
    expect(llamaFactoryTemplate({ ...plan, template: 'chat' })).toEqual({});
  });

  test('floats are written so PyYAML reads them as floats', () => {
    expect([1e-8, 2.5e-7, 0.002, 1e21, 5, -3e-5].map(yamlScalar)).toEqual(['1.0e-8', '2.5e-7', '0.002', '1.0e+21', '5', '-0.00003']);
    for (const s of ['1.0e-8', '2.5e-7', '0.002', '1.0e+21', '-0.00003']) expect(PYYAML_FLOAT.test(s)).toBe(true);
  });
});

describeHandoffTarget(llamaFactoryTarget, {
  plans: [
    { ...plan, peft: undefined, freeze: { vision: true, projector: false, language: true } },
    { ...plan, model: { ...plan.model, quantization: { bits: 4, quantType: 'nf4', doubleQuant: true } } },
    { ...plan, train: { ...plan.train, maxSteps: undefined, epochs: 2, saveEvery: 50, evalEvery: 25, batchSize: 3 } },
  ],
  keys: (dir) => {
    const info = JSON.parse(fs.readFileSync(path.join(dir, 'data/dataset_info.json'), 'utf8')) as Record<string, Record<string, object>>;
    const entries = Object.values(info);
    return [
      { file: 'train.yaml', keys: [...readYaml(fs.readFileSync(path.join(dir, 'train.yaml'), 'utf8')).keys()], known: LLAMAFACTORY_KEYS },
      { file: 'data/dataset_info.json', keys: entries.flatMap((e) => Object.keys(e)), known: new Set(DATASET_INFO_KEYS.entry) },
      {
        file: 'data/dataset_info.json columns',
        keys: entries.flatMap((e) => Object.keys(e.columns!)),
        known: new Set(DATASET_INFO_KEYS.columns),
      },
      { file: 'data/dataset_info.json tags', keys: entries.flatMap((e) => Object.keys(e.tags!)), known: new Set(DATASET_INFO_KEYS.tags) },
    ];
  },
});
