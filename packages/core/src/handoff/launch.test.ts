import { describe, expect, test } from '@jest/globals';
import type { HandoffLaunch } from '../contracts/handoff';
import { isMmftError } from '../errors';
import { HF_TRAINING_ARGUMENTS, accelerateConfig, deepspeedConfig, distributedEnvLines, hfSchedulerName, perDeviceBatch } from './launch';

const launch = (over: Partial<HandoffLaunch> = {}): HandoffLaunch => ({
  gpus: 1,
  nodes: 1,
  strategy: 'ddp',
  precision: 'bf16',
  outputDir: 'output',
  ...over,
});
const plan = (batchSize: number, gradAccum: number) => ({ train: { batchSize, gradAccum } }) as Parameters<typeof perDeviceBatch>[0];

function codeOf(fn: () => unknown): string {
  try {
    fn();
  } catch (error) {
    if (isMmftError(error)) return error.code;
    throw error;
  }
  throw new Error('expected an MmftError');
}

describe('perDeviceBatch', () => {
  test('keeps the global batch when the world divides it, per-device batch never above the recipe batch', () => {
    expect(perDeviceBatch(plan(4, 4), launch({ gpus: 8 }))).toEqual({ perDevice: 2, accum: 1, world: 8, global: 16, exact: true });
    expect(perDeviceBatch(plan(4, 4), launch({ gpus: 2 }))).toEqual({ perDevice: 4, accum: 2, world: 2, global: 16, exact: true });
    expect(perDeviceBatch(plan(8, 1), launch({ gpus: 1 }))).toEqual({ perDevice: 8, accum: 1, world: 1, global: 8, exact: true });
    // 6×4 = 24 over 2 nodes × 2 GPUs: 6 per rank, fits the batch of 6 in one micro-batch.
    expect(perDeviceBatch(plan(6, 4), launch({ gpus: 2, nodes: 2 }))).toEqual({
      perDevice: 6,
      accum: 1,
      world: 4,
      global: 24,
      exact: true,
    });
    // 4×3 = 12 on 2 GPUs: 6 per rank, micro-batch ≤ 4 that divides 6 is 3.
    expect(perDeviceBatch(plan(4, 3), launch({ gpus: 2 }))).toEqual({ perDevice: 3, accum: 2, world: 2, global: 12, exact: true });
  });

  test('invariant: perDevice × accum × world = global, exact iff it equals batchSize × gradAccum', () => {
    for (let b = 1; b <= 8; b += 1) {
      for (let a = 1; a <= 4; a += 1) {
        for (let g = 1; g <= 8; g += 1) {
          const r = perDeviceBatch(plan(b, a), launch({ gpus: g, nodes: 1 }));
          expect(r.perDevice * r.accum * r.world).toBe(r.global);
          expect(r.perDevice).toBeLessThanOrEqual(b);
          expect(r.exact).toBe(r.global === b * a);
          expect(r.exact).toBe((b * a) % g === 0);
        }
      }
    }
  });

  test('a world that does not divide the batch gives the nearest global batch and exact false', () => {
    // 16 over 3: round(5.33) = 5 per rank, 5 is prime and above 4 → 1 × 5.
    expect(perDeviceBatch(plan(4, 4), launch({ gpus: 3 }))).toEqual({ perDevice: 1, accum: 5, world: 3, global: 15, exact: false });
    // 2 over 8 GPUs: at least one example per rank.
    expect(perDeviceBatch(plan(2, 1), launch({ gpus: 8 }))).toEqual({ perDevice: 1, accum: 1, world: 8, global: 8, exact: false });
  });

  test('bad counts are refused', () => {
    expect(codeOf(() => perDeviceBatch(plan(4, 1), launch({ gpus: 0 })))).toBe('E_INPUT');
    expect(codeOf(() => perDeviceBatch(plan(0, 1), launch()))).toBe('E_CONFIG');
  });
});

describe('deepspeedConfig', () => {
  test('ZeRO-2 and ZeRO-3 leave batch, accumulation, clipping and precision to the Trainer', () => {
    for (const stage of [2, 3] as const) {
      const c = deepspeedConfig(stage);
      for (const key of ['train_batch_size', 'train_micro_batch_size_per_gpu', 'gradient_accumulation_steps', 'gradient_clipping']) {
        expect(c[key]).toBe('auto');
      }
      expect(c.bf16).toEqual({ enabled: 'auto' });
      expect((c.fp16 as Record<string, unknown>).enabled).toBe('auto');
      expect((c.zero_optimization as Record<string, unknown>).stage).toBe(stage);
      expect(JSON.parse(JSON.stringify(c))).toEqual(c);
    }
    const z3 = deepspeedConfig(3).zero_optimization as Record<string, unknown>;
    expect(z3.stage3_gather_16bit_weights_on_model_save).toBe(true);
    expect(z3.offload_param).toEqual({ device: 'none', pin_memory: true });
    expect((deepspeedConfig(2, { offload: true }).zero_optimization as Record<string, unknown>).offload_optimizer).toEqual({
      device: 'cpu',
      pin_memory: true,
    });
    expect(codeOf(() => deepspeedConfig(1 as 2))).toBe('E_CONFIG');
  });
});

describe('accelerateConfig', () => {
  test('one GPU, DDP on many, FSDP and DeepSpeed', () => {
    expect(accelerateConfig(launch())).toMatchObject({
      distributed_type: 'NO',
      num_processes: 1,
      num_machines: 1,
      mixed_precision: 'bf16',
    });
    const ddp = accelerateConfig(launch({ gpus: 4, precision: 'fp32' }));
    expect(ddp).toMatchObject({ distributed_type: 'MULTI_GPU', num_processes: 4, mixed_precision: 'no' });
    expect(ddp.main_process_ip).toBeUndefined();
    const fsdp = accelerateConfig(launch({ gpus: 8, nodes: 2, strategy: 'fsdp', precision: 'fp16' }));
    expect(fsdp).toMatchObject({ distributed_type: 'FSDP', num_processes: 16, num_machines: 2, machine_rank: 0, mixed_precision: 'fp16' });
    expect(fsdp).toMatchObject({ main_process_ip: '127.0.0.1', main_process_port: 29500 });
    expect(fsdp.fsdp_config).toMatchObject({
      fsdp_sharding_strategy: 'FULL_SHARD',
      fsdp_use_orig_params: true,
      fsdp_state_dict_type: 'FULL_STATE_DICT',
    });
    const z3 = accelerateConfig(launch({ gpus: 2, nodes: 2, strategy: 'zero3' }), { deepspeedConfigFile: 'ds_zero3.json' });
    expect(z3).toMatchObject({ distributed_type: 'DEEPSPEED', num_processes: 4 });
    expect(z3.deepspeed_config).toEqual({
      deepspeed_config_file: 'ds_zero3.json',
      zero3_init_flag: true,
      deepspeed_multinode_launcher: 'standard',
    });
    expect(accelerateConfig(launch({ strategy: 'zero2' }), { deepspeedConfigFile: 'ds_zero2.json' }).deepspeed_config).toEqual({
      deepspeed_config_file: 'ds_zero2.json',
      zero3_init_flag: false,
    });
    expect(codeOf(() => accelerateConfig(launch({ strategy: 'zero2' })))).toBe('E_CONFIG');
  });
});

describe('distributedEnvLines', () => {
  test('exports the torchrun variables with single-node defaults', () => {
    expect(distributedEnvLines(launch({ gpus: 4, nodes: 2 }))).toEqual([
      'export NNODES="${NNODES:-2}"',
      'export NODE_RANK="${NODE_RANK:-0}"',
      'export MASTER_ADDR="${MASTER_ADDR:-127.0.0.1}"',
      'export MASTER_PORT="${MASTER_PORT:-29500}"',
      'export NPROC_PER_NODE="${NPROC_PER_NODE:-4}"',
    ]);
  });
});

describe('hfSchedulerName', () => {
  test('maps mmft schedules to transformers lr_scheduler_type', () => {
    expect(hfSchedulerName('linear')).toBe('linear');
    expect(hfSchedulerName('cosine')).toBe('cosine');
    expect(hfSchedulerName('constant')).toBe('constant_with_warmup');
    expect(codeOf(() => hfSchedulerName('polynomial'))).toBe('E_CONFIG');
  });
});

describe('HF_TRAINING_ARGUMENTS', () => {
  test('holds the Trainer fields the targets write, once each', () => {
    expect(new Set(HF_TRAINING_ARGUMENTS).size).toBe(HF_TRAINING_ARGUMENTS.length);
    for (const key of [
      'output_dir',
      'per_device_train_batch_size',
      'gradient_accumulation_steps',
      'lr_scheduler_type',
      'warmup_steps',
      'eval_strategy',
      'deepspeed',
    ]) {
      expect(HF_TRAINING_ARGUMENTS).toContain(key);
    }
    // Renamed or removed upstream: writing them would fail HfArgumentParser.
    expect(HF_TRAINING_ARGUMENTS).not.toContain('evaluation_strategy');
    expect(HF_TRAINING_ARGUMENTS).not.toContain('overwrite_output_dir');
  });
});
