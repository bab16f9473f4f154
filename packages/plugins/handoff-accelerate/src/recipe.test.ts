import { describe, expect, test } from '@jest/globals';
import { HANDOFF_DATA, repoRecipePlan } from '@mmft/core/testing';
import { acceleratePlanFiles } from './plan-files';

// The repository's LLaVA LoRA recipe through core's plan (what mmft handoff builds, via repoRecipePlan), then into the bundle's JSON.

describe('recipes/llava-shapes-instruct.yaml as an accelerate run', () => {
  test('train_config.json and train_args.json carry the recipe', () => {
    const plan = repoRecipePlan('llava-shapes-instruct.yaml');
    const data = HANDOFF_DATA;
    const { trainConfig, trainArgs, gaps } = acceleratePlanFiles(plan, data, {
      gpus: 4,
      nodes: 1,
      strategy: 'fsdp',
      precision: 'bf16',
      outputDir: 'output',
    });
    expect(trainConfig).toMatchObject({
      model: { kind: 'llava' },
      template: 'llava_v1',
      default_system: '',
      max_length: 256,
      freeze: { vision: true, projector: false, language: false },
      peft: {
        r: 16,
        lora_alpha: 32,
        target_modules: 'all-linear',
        exclude_modules: 'vision_tower\\..*',
        modules_to_save: ['multi_modal_projector'],
      },
      lr_groups: { projector: 0.001 },
      evaluate_at_end: true,
      sharded: true,
      upcast_trainable: false,
    });
    // 16 × 1 over 4 GPUs: 4 per device, no accumulation.
    expect(trainArgs).toMatchObject({
      learning_rate: 0.002,
      per_device_train_batch_size: 4,
      gradient_accumulation_steps: 1,
      max_steps: 900,
      warmup_steps: 10,
      lr_scheduler_type: 'cosine',
    });
    expect(gaps).toEqual([]);
  });
});
