import * as path from 'node:path';
import { describe, expect, test } from '@jest/globals';
import { HANDOFF_DATA, repoRecipePlan } from '@mmft/core/testing';
import { swiftConfigSchema } from './config';
import { swiftArguments } from './arguments';

// The repository's LLaVA LoRA recipe through core's plan (what mmft handoff builds), then into swift sft arguments.
const RECIPE = path.join(__dirname, '..', '..', '..', '..', 'recipes', 'llava-shapes-instruct.yaml');

describe('recipes/llava-shapes-instruct.yaml as an ms-swift run', () => {
  test('LoRA on the language model, the projector saved whole at its own rate, 8 × 2 GPUs × 1 = the batch of 16', () => {
    const plan = repoRecipePlan('llava-shapes-instruct.yaml');
    const data = HANDOFF_DATA;
    const launch = { gpus: 2, nodes: 1, strategy: 'zero2', precision: 'bf16', outputDir: 'output' } as const;
    const { args, gaps } = swiftArguments(plan, data, launch, swiftConfigSchema.parse({}));
    const f = Object.fromEntries(args.map(([flag, ...values]) => [flag, values.map(String).join(' ')]));
    expect(f).toMatchObject({
      model: path.resolve(path.dirname(RECIPE), '../models/llava-shapes-base'),
      model_type: 'llava1_5_hf',
      tuner_type: 'lora',
      lora_rank: '16',
      lora_alpha: '32',
      target_modules: 'all-linear',
      modules_to_save: 'multi_modal_projector',
      freeze_vit: 'true',
      freeze_aligner: 'true',
      freeze_llm: 'false',
      learning_rate: '0.002',
      aligner_lr: '0.001',
      lr_scheduler_type: 'cosine',
      warmup_steps: '10',
      max_steps: '900',
      per_device_train_batch_size: '8',
      gradient_accumulation_steps: '1',
      max_length: '256',
      system: '',
    });
    expect(f.vit_lr).toBeUndefined();
    expect(gaps).toEqual([]);
  });
});

describe('recipes/llava-shapes-qlora.yaml as an ms-swift run', () => {
  test('bitsandbytes NF4 with double quantisation, r 64 / alpha 16 / dropout 0.05, clipping 0.3, checkpointing on', () => {
    const plan = repoRecipePlan('llava-shapes-qlora.yaml');
    const data = { train: 'data/train.jsonl', trainRows: 1, evalRows: 0, imagesDir: 'data/images' };
    const launch = { gpus: 1, nodes: 1, strategy: 'ddp', precision: 'bf16', outputDir: 'output' } as const;
    const f = Object.fromEntries(
      swiftArguments(plan, data, launch, swiftConfigSchema.parse({})).args.map(([flag, ...v]) => [flag, v.map(String).join(' ')]),
    );
    expect(f).toMatchObject({
      quant_method: 'bnb',
      quant_bits: '4',
      bnb_4bit_quant_type: 'nf4',
      bnb_4bit_use_double_quant: 'true',
      bnb_4bit_compute_dtype: 'bfloat16',
      lora_rank: '64',
      lora_alpha: '16',
      lora_dropout: '0.05',
      max_grad_norm: '0.3',
      gradient_checkpointing: 'true',
      per_device_train_batch_size: '16',
    });
    expect([f.deepspeed, f.val_dataset, f.bnb_4bit_quant_storage]).toEqual([undefined, undefined, undefined]);
  });
});
