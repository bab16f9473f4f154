import { execFileSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { afterAll, describe, expect, test } from '@jest/globals';
import { HANDOFF_DATA, describeHandoffTarget, handoffBundleDir, handoffLaunch, llavaHandoffPlan } from '@mmft/core/testing';
import { swiftConfigSchema } from './config';
import { SWIFT_DEEPSPEED_PRESETS, SWIFT_SFT_ARGUMENTS } from './known-keys';
import { swiftTarget } from './plugin';
import { swiftArguments } from './arguments';
import { targetRegex, type SwiftArg } from './tuner';

const llavaPlan = llavaHandoffPlan;
const data = HANDOFF_DATA;
const launch = handoffLaunch;
const config = swiftConfigSchema.parse({});

/** `--flag` → its values, as strings (a flag written twice would fail the test through the size check). */
function flags(args: readonly SwiftArg[]): Map<string, string[]> {
  const map = new Map(args.map(([flag, ...values]) => [flag, values.map(String)] as const));
  expect(map.size).toBe(args.length);
  return map;
}

const temps: string[] = [];
afterAll(() => temps.forEach((dir) => fs.rmSync(dir, { recursive: true, force: true })));

/** A bundle folder with two chat rows, the first with an image. */
function bundle(): string {
  const dir = handoffBundleDir('mmft-swift-');
  temps.push(dir);
  return dir;
}

describe('swift sft arguments', () => {
  test('the LLaVA LoRA recipe gives the expected values', () => {
    const { args, gaps } = swiftArguments(llavaPlan(), data, launch(), config);
    const f = flags(args);
    const expected: Record<string, string[]> = {
      model: ['/abs/models/llava-shapes-base'],
      model_type: ['llava1_5_hf'],
      template: ['llava1_5_hf'],
      system: [''],
      max_length: ['256'],
      truncation_strategy: ['right'],
      loss_scale: ['default'],
      dataset: ['data/train.jsonl'],
      val_dataset: ['data/eval.jsonl'],
      split_dataset_ratio: ['0'],
      tuner_type: ['lora'],
      lora_rank: ['16'],
      lora_alpha: ['32'],
      lora_dropout: ['0'],
      modules_to_save: ['multi_modal_projector'],
      target_modules: ['all-linear'],
      // LoRA on the language model only: the vision tower is frozen, the projector trains whole.
      freeze_vit: ['true'],
      freeze_aligner: ['true'],
      freeze_llm: ['false'],
      learning_rate: ['0.002'],
      aligner_lr: ['0.001'],
      weight_decay: ['0'],
      adam_beta1: ['0.9'],
      adam_beta2: ['0.999'],
      adam_epsilon: ['1e-8'],
      lr_scheduler_type: ['cosine'],
      warmup_steps: ['10'],
      max_steps: ['900'],
      // 16 × 1 on one process = 8 per device × 1 × 2 GPUs.
      per_device_train_batch_size: ['8'],
      gradient_accumulation_steps: ['1'],
      max_grad_norm: ['1'],
      gradient_checkpointing: ['false'],
      torch_dtype: ['bfloat16'],
      deepspeed: ['zero2'],
      output_dir: ['output'],
      seed: ['0'],
      data_seed: ['0'],
      logging_steps: ['25'],
      save_steps: ['900'],
    };
    expect(Object.fromEntries(f)).toEqual(expected);
    expect(f.has('vit_lr')).toBe(false);
    expect(gaps).toEqual([]);
  });

  test('every flag is an argument ms-swift defines; deepspeed takes a preset name', () => {
    const plans = [
      llavaPlan(),
      llavaPlan({ peft: undefined, freeze: { vision: true, projector: false, language: true } }),
      llavaPlan({ model: { ...llavaPlan().model, quantization: { bits: 4, quantType: 'nf4', doubleQuant: true } } }),
      llavaPlan({
        train: {
          ...llavaPlan().train,
          maxSteps: undefined,
          epochs: 2,
          saveEvery: 50,
          evalEvery: 25,
          lrGroups: [{ params: 'vision', lr: 1e-5 }],
        },
      }),
    ];
    for (const plan of plans) {
      for (const strategy of ['zero2', 'zero3', 'fsdp', 'ddp'] as const) {
        const { args } = swiftArguments(plan, data, launch({ strategy }), config);
        for (const [flag, ...values] of args) {
          expect([flag, SWIFT_SFT_ARGUMENTS.has(flag)]).toEqual([flag, true]);
          if (flag === 'deepspeed') expect(SWIFT_DEEPSPEED_PRESETS).toContain(String(values[0]));
        }
      }
    }
    // --train_type was renamed --tuner_type (swift/arguments/base_args/base_args.py).
    expect(SWIFT_SFT_ARGUMENTS.has('train_type')).toBe(false);
  });

  test('QLoRA under FSDP: bnb 4-bit flags, storage in the compute dtype, FSDP2 instead of gradient checkpointing', () => {
    const plan = llavaPlan({ model: { ...llavaPlan().model, quantization: { bits: 4, quantType: 'fp4', doubleQuant: false } } });
    const f = flags(swiftArguments(plan, data, launch({ strategy: 'fsdp', precision: 'fp16' }), config).args);
    expect(f.get('quant_method')).toEqual(['bnb']);
    expect(f.get('quant_bits')).toEqual(['4']);
    expect(f.get('bnb_4bit_quant_type')).toEqual(['fp4']);
    expect(f.get('bnb_4bit_use_double_quant')).toEqual(['false']);
    expect(f.get('bnb_4bit_compute_dtype')).toEqual(['float16']);
    expect(f.get('bnb_4bit_quant_storage')).toEqual(['float16']);
    expect(f.get('fsdp')).toEqual(['fsdp2']);
    expect(f.get('gradient_checkpointing')).toEqual(['false']);
    expect(f.has('deepspeed')).toBe(false);
  });

  test('full fine-tuning freezes parts by flag; per-part rates; an unsplittable batch is a gap', () => {
    const plan = llavaPlan({
      peft: undefined,
      freeze: { vision: false, projector: false, language: true },
      train: {
        ...llavaPlan().train,
        batchSize: 4,
        gradAccum: 4,
        lrGroups: [
          { params: 'vision', lr: 1e-5 },
          { params: 'language', lr: 3e-4 },
        ],
      },
    });
    const { args, gaps } = swiftArguments(plan, data, launch({ gpus: 3 }), config);
    const f = flags(args);
    expect(f.get('tuner_type')).toEqual(['full']);
    expect([f.get('freeze_vit'), f.get('freeze_aligner'), f.get('freeze_llm')]).toEqual([['false'], ['false'], ['true']]);
    // learning_rate is the language model's rate in ms-swift; the projector keeps train.lr.
    expect([f.get('learning_rate'), f.get('vit_lr'), f.get('aligner_lr')]).toEqual([['0.0003'], ['0.00001'], ['0.002']]);
    // 16 over 3 GPUs: round(16/3) = 5 per rank, 1 × 5 → 15 per step.
    expect([f.get('per_device_train_batch_size'), f.get('gradient_accumulation_steps')]).toEqual([['1'], ['5']]);
    expect(gaps.map((g) => g.field)).toEqual(['train.batch_size']);
  });

  test('a model mmft cannot name for ms-swift, and a template it has not, are gaps', () => {
    const plan = llavaPlan({
      model: { path: 'x', localPath: 'x', modelType: 'idefics', architecture: 'IdeficsForVisionText2Text' },
      template: 'plain',
      peft: undefined,
      train: { ...llavaPlan().train, lrGroups: [] },
    });
    const { args, gaps } = swiftArguments(plan, data, launch(), config);
    expect(flags(args).has('model_type')).toBe(false);
    expect(gaps.map((g) => g.field)).toEqual(['model.checkpoint', 'objective.template']);
    expect(
      flags(swiftArguments(plan, data, launch(), swiftConfigSchema.parse({ model_type: 'idefics3', template: 'idefics3' })).args).get(
        'model_type',
      ),
    ).toEqual(['idefics3']);
  });
  test('explicit targets: a name list stays a list, a regex (or an exclusion) becomes --target_regex and a layout gap on LLaVA', () => {
    const names = llavaPlan({ peft: { ...llavaPlan().peft!, targetModules: ['q_proj', 'v_proj'], excludeModules: undefined } });
    const list = swiftArguments(names, data, launch(), config);
    expect(flags(list.args).get('target_modules')).toEqual(['q_proj', 'v_proj']);
    expect([flags(list.args).has('freeze_vit'), list.gaps]).toEqual([false, []]);
    const regex = llavaPlan({ peft: { ...llavaPlan().peft!, targetModules: 'language_model\\..*\\.q_proj', excludeModules: undefined } });
    const r = swiftArguments(regex, data, launch(), config);
    expect(flags(r.args).get('target_regex')).toEqual(['language_model\\..*\\.q_proj']);
    expect(r.gaps.map((g) => g.field)).toEqual(['peft.target_modules']);
  });
});

describe('targetRegex', () => {
  const full = (regex: string, name: string) => new RegExp(`^(?:${regex})$`).test(name);
  test('folds exclude_modules into a PEFT full-match regex', () => {
    const r = targetRegex(['q_proj', 'v_proj'], 'vision_tower\\..*');
    expect(full(r, 'model.language_model.layers.0.self_attn.q_proj')).toBe(true);
    expect(full(r, 'v_proj')).toBe(true);
    expect(full(r, 'model.language_model.layers.0.self_attn.k_proj')).toBe(false);
    expect(full(r, 'vision_tower.encoder.layers.0.self_attn.q_proj')).toBe(false);
    expect(full(r, 'model.language_model.layers.0.self_attn.xq_proj')).toBe(false);
    const s = targetRegex('.*\\.(q_proj|v_proj)', ['lm_head', 'v_proj']);
    expect(full(s, 'a.q_proj')).toBe(true);
    expect(full(s, 'a.v_proj')).toBe(false);
    expect(targetRegex('.*q_proj')).toBe('.*q_proj');
  });
});

describe('the bundle', () => {
  test('train.sh runs swift sft from the bundle with the torchrun env, ROOT_IMAGE_DIR and the plan as arguments', async () => {
    const dir = bundle();
    const result = await swiftTarget.write(llavaPlan(), data, launch({ gpus: 4, nodes: 2 }), dir, config);
    expect(result.files).toEqual(['data/train.swift.jsonl', 'data/eval.swift.jsonl', 'train.sh']);
    expect(result.commands).toEqual(['NODE_RANK=$NODE_RANK MASTER_ADDR=$MASTER_ADDR bash train.sh']);
    expect(result.output).toBe('output');
    const script = path.join(dir, 'train.sh');
    expect(fs.statSync(script).mode & 0o111).not.toBe(0);
    execFileSync('bash', ['-n', script]);
    // Run it with a stand-in `swift` that prints its argv and the environment it got.
    const bin = fs.mkdtempSync(path.join(os.tmpdir(), 'mmft-swift-bin-'));
    temps.push(bin);
    fs.writeFileSync(
      path.join(bin, 'swift'),
      '#!/usr/bin/env bash\nprintf "%s\\n" "PWD=$PWD" "NNODES=$NNODES" "NODE_RANK=$NODE_RANK" "NPROC_PER_NODE=$NPROC_PER_NODE" "MASTER_ADDR=$MASTER_ADDR" "ROOT_IMAGE_DIR=$ROOT_IMAGE_DIR" "$@"\n',
      { mode: 0o755 },
    );
    const env = { ...process.env, PATH: `${bin}:${process.env.PATH}`, NODE_RANK: '1', MASTER_ADDR: '10.0.0.1' };
    const lines = execFileSync('bash', [script], { env, cwd: os.tmpdir() }).toString().split('\n');
    expect(lines.slice(0, 6)).toEqual([
      `PWD=${fs.realpathSync(dir)}`,
      'NNODES=2',
      'NODE_RANK=1',
      'NPROC_PER_NODE=4',
      'MASTER_ADDR=10.0.0.1',
      `ROOT_IMAGE_DIR=${fs.realpathSync(dir)}/data`,
    ]);
    const argv = lines.slice(6, -1);
    expect(argv.slice(0, 2)).toEqual(['sft', '--model']);
    const at = (flag: string) => argv[argv.indexOf(`--${flag}`) + 1];
    expect([at('system'), at('dataset'), at('val_dataset'), at('per_device_train_batch_size')]).toEqual([
      '',
      'data/train.swift.jsonl',
      'data/eval.swift.jsonl',
      '2',
    ]);
    // The image tag loses LLaVA's newline (the template adds its own); the input rows stay as they were.
    const swiftRows = fs
      .readFileSync(path.join(dir, 'data', 'train.swift.jsonl'), 'utf8')
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l));
    expect(swiftRows[0].messages[0].content).toBe('<image>What colour is the circle?');
    expect(swiftRows[0].images).toEqual(['images/a.png']);
    expect(swiftRows[1].messages[0].content).toBe('Say hi.');
    expect(fs.readFileSync(path.join(dir, 'data', 'train.jsonl'), 'utf8')).toContain('<image>\\nWhat colour');
    expect(result.mappings.find((m) => m.mmft === 'train.lr_groups')?.target).toBe('--aligner_lr (train.sh)');
  });
});

describeHandoffTarget(swiftTarget, {
  plans: [
    llavaPlan({ peft: undefined, freeze: { vision: true, projector: false, language: true } }),
    llavaPlan({ model: { ...llavaPlan().model, quantization: { bits: 4, quantType: 'nf4', doubleQuant: true } } }),
    llavaPlan({ train: { ...llavaPlan().train, maxSteps: undefined, epochs: 2, saveEvery: 50, evalEvery: 25, batchSize: 3 } }),
  ],
  keys: (dir) => [
    {
      file: 'train.sh',
      keys: [...fs.readFileSync(path.join(dir, 'train.sh'), 'utf8').matchAll(/^ {2}--([a-z0-9_]+)/gm)].map((m) => m[1]!),
      known: SWIFT_SFT_ARGUMENTS,
    },
  ],
});
