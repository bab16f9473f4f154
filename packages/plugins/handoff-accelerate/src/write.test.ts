import { execFileSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { afterAll, describe, expect, test } from '@jest/globals';
import { PluginRegistry, isMmftError, type HandoffLaunch, type HandoffPlan } from '@mmft/core';
import { HANDOFF_DATA, describeHandoffTarget, handoffLaunch, llavaHandoffPlan } from '@mmft/core/testing';
import { parse } from 'yaml';
import plugin from './index';
import { accelerateConfigSchema } from './config';
import { accelerateTarget } from './plugin';
import { ACCELERATE_CONFIG_KEYS, ACCELERATE_DEEPSPEED_KEYS, ACCELERATE_FSDP_KEYS, HF_TRAINING_ARGUMENTS } from './known-keys';
import { acceleratePlanFiles, modelKind } from './plan-files';

const llavaPlan = llavaHandoffPlan;
const data = HANDOFF_DATA;
const launch = (over: Partial<HandoffLaunch> = {}): HandoffLaunch => handoffLaunch({ strategy: 'ddp', ...over });
const config = accelerateConfigSchema.parse({});
/** A text model (GPT-2) under QLoRA with the given 4-bit settings. */
const gpt2Model = (quantType: 'nf4' | 'fp4', doubleQuant: boolean): HandoffPlan['model'] => ({
  path: 'gpt2',
  localPath: '/m/gpt2',
  modelType: 'gpt2',
  architecture: 'GPT2LMHeadModel',
  quantization: { bits: 4, quantType, doubleQuant },
});
const python = fs.existsSync('/usr/bin/python3') ? '/usr/bin/python3' : 'python3';

const temps: string[] = [];
afterAll(() => temps.forEach((dir) => fs.rmSync(dir, { recursive: true, force: true })));
const tempDir = (prefix: string) => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), prefix));
  temps.push(dir);
  return dir;
};

describe('train_args.json and train_config.json', () => {
  test('the LLaVA LoRA recipe gives the expected values', () => {
    const { trainArgs, trainConfig, gaps } = acceleratePlanFiles(llavaPlan(), data, launch());
    expect(trainArgs).toEqual({
      output_dir: 'output',
      // 16 × 1 on one process = 8 per device × 1 × 2 GPUs.
      per_device_train_batch_size: 8,
      gradient_accumulation_steps: 1,
      per_device_eval_batch_size: 8,
      max_steps: 900,
      learning_rate: 0.002,
      lr_scheduler_type: 'cosine',
      warmup_steps: 10,
      weight_decay: 0,
      adam_beta1: 0.9,
      adam_beta2: 0.999,
      adam_epsilon: 1e-8,
      max_grad_norm: 1,
      bf16: true,
      fp16: false,
      gradient_checkpointing: false,
      logging_steps: 25,
      save_strategy: 'no',
      eval_strategy: 'no',
      prediction_loss_only: true,
      seed: 0,
      data_seed: 0,
      remove_unused_columns: false,
      report_to: 'none',
      ddp_find_unused_parameters: true,
    });
    expect(trainConfig).toEqual({
      model: { path: '/abs/models/llava-shapes-base', kind: 'llava' },
      template: 'llava_v1',
      default_system: '',
      max_length: 256,
      train_on_prompt: false,
      freeze: { vision: true, projector: false, language: false },
      peft: {
        r: 16,
        lora_alpha: 32,
        lora_dropout: 0,
        target_modules: 'all-linear',
        exclude_modules: 'vision_tower\\..*',
        modules_to_save: ['multi_modal_projector'],
        use_rslora: false,
      },
      lr_groups: { projector: 0.001 },
      data: { train: 'data/train.jsonl', eval: 'data/eval.jsonl' },
      evaluate_at_end: true,
      sharded: false,
      upcast_trainable: true,
    });
    expect(gaps).toEqual([]);
  });

  test('every key of train_args.json is a TrainingArguments field, whatever the plan', () => {
    const plans = [
      llavaPlan(),
      llavaPlan({
        train: {
          ...llavaPlan().train,
          maxSteps: undefined,
          epochs: 3,
          saveEvery: 100,
          evalEvery: 50,
          gradientCheckpointing: true,
          schedule: 'constant',
        },
      }),
      llavaPlan({
        model: gpt2Model('nf4', true),
      }),
    ];
    const fields = new Set(HF_TRAINING_ARGUMENTS);
    for (const plan of plans) {
      for (const strategy of ['zero2', 'zero3', 'fsdp', 'ddp'] as const) {
        for (const key of Object.keys(acceleratePlanFiles(plan, data, launch({ strategy })).trainArgs))
          expect([key, fields.has(key)]).toEqual([key, true]);
      }
    }
    const steps = acceleratePlanFiles(plans[1]!, data, launch()).trainArgs;
    expect([steps.save_strategy, steps.save_steps, steps.eval_strategy, steps.eval_steps, steps.num_train_epochs]).toEqual([
      'steps',
      100,
      'steps',
      50,
      3,
    ]);
    expect([steps.lr_scheduler_type, steps.gradient_checkpointing_kwargs]).toEqual(['constant_with_warmup', { use_reentrant: false }]);
  });

  test('a text model: QLoRA settings, sharded placement under ZeRO-3, a vision rate is a gap', () => {
    const plan = llavaPlan({
      model: gpt2Model('fp4', false),
      train: { ...llavaPlan().train, lrGroups: [{ params: 'vision', lr: 1e-5 }] },
    });
    const { trainConfig, trainArgs, gaps } = acceleratePlanFiles(
      plan,
      { ...data, eval: undefined },
      launch({ strategy: 'zero3', precision: 'fp16' }),
    );
    expect(trainConfig.model).toEqual({ path: 'gpt2', kind: 'causal-lm', quantization: { quant_type: 'fp4', double_quant: false } });
    expect([trainConfig.sharded, trainConfig.evaluate_at_end, trainConfig.lr_groups]).toEqual([true, false, {}]);
    expect([trainArgs.bf16, trainArgs.fp16, trainArgs.ddp_find_unused_parameters]).toEqual([false, true, undefined]);
    expect(gaps).toEqual([{ field: 'train.lr_groups', why: 'a text model has no vision part' }]);
  });

  test('a model train.py cannot load is refused with the other targets named', () => {
    const plan = llavaPlan({ model: { path: 'b', localPath: '/m/b', modelType: 'blip-2', architecture: 'Blip2ForConditionalGeneration' } });
    let error: unknown;
    try {
      modelKind(plan);
    } catch (e) {
      error = e;
    }
    expect(isMmftError(error) && error.code).toBe('E_UNSUPPORTED');
    expect(String(error)).toMatch(/Blip2ForConditionalGeneration/);
  });
});

describe('the bundle', () => {
  test('writes train.py (valid Python), the configs with known keys, launch.sh and requirements', async () => {
    const registry = new PluginRegistry();
    registry.use(plugin, '@mmft/handoff-accelerate');
    const target = registry.resolve('handoff', 'accelerate');
    expect(target.engine).toBe('Hugging Face accelerate');
    const dir = tempDir('mmft-accel-');
    const plan = llavaPlan({ model: { ...llavaPlan().model, quantization: { bits: 4, quantType: 'nf4', doubleQuant: true } } });
    const result = await target.write(plan, data, launch({ gpus: 4, nodes: 2, strategy: 'zero3' }), dir, config);
    expect(result.files).toEqual([
      'train.py',
      'train_config.json',
      'train_args.json',
      'ds_zero3.json',
      'accelerate_config.yaml',
      'launch.sh',
      'requirements.txt',
    ]);
    expect(result.commands).toEqual(['pip install -r requirements.txt', 'NODE_RANK=$NODE_RANK MASTER_ADDR=$MASTER_ADDR bash launch.sh']);
    expect(result.output).toBe('output');
    execFileSync(python, ['-m', 'py_compile', path.join(dir, 'train.py')], {
      env: { ...process.env, PYTHONPYCACHEPREFIX: tempDir('mmft-pyc-') },
    });

    const accel = parse(fs.readFileSync(path.join(dir, 'accelerate_config.yaml'), 'utf8')) as Record<string, unknown>;
    for (const key of Object.keys(accel)) expect([key, ACCELERATE_CONFIG_KEYS.has(key)]).toEqual([key, true]);
    for (const key of Object.keys(accel.deepspeed_config as object)) expect([key, ACCELERATE_DEEPSPEED_KEYS.has(key)]).toEqual([key, true]);
    expect(accel).toMatchObject({ distributed_type: 'DEEPSPEED', num_machines: 2, num_processes: 8, mixed_precision: 'bf16' });
    expect(accel.deepspeed_config).toEqual({
      deepspeed_config_file: 'ds_zero3.json',
      zero3_init_flag: true,
      deepspeed_multinode_launcher: 'standard',
    });
    const ds = JSON.parse(fs.readFileSync(path.join(dir, 'ds_zero3.json'), 'utf8')) as { zero_optimization: { stage: number } };
    expect(ds.zero_optimization.stage).toBe(3);
    expect(JSON.parse(fs.readFileSync(path.join(dir, 'train_config.json'), 'utf8')).sharded).toBe(true);
    expect(fs.readFileSync(path.join(dir, 'requirements.txt'), 'utf8').split('\n')).toEqual([
      'torch>=2.1',
      'transformers>=4.46',
      'peft>=0.10',
      'accelerate>=1.0',
      'pillow',
      'deepspeed>=0.14',
      'bitsandbytes>=0.43',
      '',
    ]);

    // launch.sh with a stand-in `accelerate` that prints its argv: the machine layout comes from the environment.
    const bin = tempDir('mmft-accel-bin-');
    fs.writeFileSync(path.join(bin, 'accelerate'), '#!/usr/bin/env bash\nprintf "%s\\n" "PWD=$PWD" "$@"\n', { mode: 0o755 });
    const env = { ...process.env, PATH: `${bin}:${process.env.PATH}`, NODE_RANK: '1', MASTER_ADDR: '10.0.0.1' };
    const lines = execFileSync('bash', [path.join(dir, 'launch.sh')], { env, cwd: os.tmpdir() })
      .toString()
      .trim()
      .split('\n');
    expect(lines).toEqual([
      `PWD=${fs.realpathSync(dir)}`,
      'launch',
      '--config_file',
      'accelerate_config.yaml',
      '--num_machines',
      '2',
      '--num_processes',
      '8',
      '--machine_rank',
      '1',
      '--main_process_ip',
      '10.0.0.1',
      '--main_process_port',
      '29500',
      'train.py',
    ]);
  });

  test('FSDP writes fsdp_config with accelerate keys and no DeepSpeed file', async () => {
    const dir = tempDir('mmft-accel-fsdp-');
    const result = await accelerateTarget.write(llavaPlan(), data, launch({ strategy: 'fsdp' }), dir, config);
    expect(result.files).not.toContain('ds_zero2.json');
    const accel = parse(fs.readFileSync(path.join(dir, 'accelerate_config.yaml'), 'utf8')) as Record<string, Record<string, unknown>>;
    for (const key of Object.keys(accel.fsdp_config!)) expect([key, ACCELERATE_FSDP_KEYS.has(key)]).toEqual([key, true]);
    expect(accel.distributed_type).toBe('FSDP');
  });
});

describeHandoffTarget(accelerateTarget, {
  plans: [
    llavaPlan({ peft: undefined, freeze: { vision: true, projector: false, language: true } }),
    llavaPlan({
      model: gpt2Model('nf4', true),
      train: { ...llavaPlan().train, maxSteps: undefined, epochs: 2, saveEvery: 50, evalEvery: 25, batchSize: 3 },
    }),
  ],
  keys: (dir) => {
    const accel = parse(fs.readFileSync(path.join(dir, 'accelerate_config.yaml'), 'utf8')) as Record<string, unknown>;
    const nested = (key: string) => Object.keys((accel[key] as object | undefined) ?? {});
    return [
      {
        file: 'train_args.json',
        keys: Object.keys(JSON.parse(fs.readFileSync(path.join(dir, 'train_args.json'), 'utf8'))),
        known: new Set(HF_TRAINING_ARGUMENTS),
      },
      { file: 'accelerate_config.yaml', keys: Object.keys(accel), known: ACCELERATE_CONFIG_KEYS },
      ...(accel.deepspeed_config
        ? [{ file: 'accelerate_config.yaml deepspeed_config', keys: nested('deepspeed_config'), known: ACCELERATE_DEEPSPEED_KEYS }]
        : []),
      ...(accel.fsdp_config
        ? [{ file: 'accelerate_config.yaml fsdp_config', keys: nested('fsdp_config'), known: ACCELERATE_FSDP_KEYS }]
        : []),
    ];
  },
});
