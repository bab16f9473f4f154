// Launch pieces every handoff target shares: DeepSpeed ZeRO configs, accelerate's config file, the
// torchrun-style environment lines and the per-device batch that keeps mmft's global batch. Shapes follow
// hiyouga/LLaMA-Factory@1d6e8b2:examples/deepspeed/ds_z{2,3}_config.json (also modelscope/ms-swift's
// swift/llm/ds_config/zero{2,3}.json) and huggingface/accelerate@1a6af0b:examples/config_yaml_templates/{fsdp,multi_node}.yaml.
import type { HandoffLaunch, HandoffPlan } from '../contracts/handoff';
import { MmftError } from '../errors';

// The Trainer's own keys, which every target's written arguments are checked against.
export { HF_TRAINING_ARGUMENTS } from './hf-training-args';

export interface DeepspeedOptions {
  /** ZeRO-Offload of the optimizer state (and, for stage 3, the parameters) to CPU memory. */
  readonly offload?: boolean;
}

/**
 * A DeepSpeed config for the HF Trainer: batch, accumulation, clipping and precision are "auto" so the
 * Trainer fills them from its own arguments (one source of truth: the target's train args).
 *
 * @example
 * deepspeedConfig(3).zero_optimization; // { stage: 3, ..., stage3_gather_16bit_weights_on_model_save: true }
 */
export function deepspeedConfig(stage: 2 | 3, options: DeepspeedOptions = {}): Record<string, unknown> {
  if (stage !== 2 && stage !== 3) throw new MmftError('E_CONFIG', `DeepSpeed ZeRO stage ${String(stage)} is not written; use 2 or 3`);
  const offload = (on: boolean | undefined) => ({ device: on ? 'cpu' : 'none', pin_memory: true });
  const zero: Record<string, unknown> =
    stage === 2
      ? {
          stage: 2,
          offload_optimizer: offload(options.offload),
          allgather_partitions: true,
          allgather_bucket_size: 5e8,
          overlap_comm: false,
          reduce_scatter: true,
          reduce_bucket_size: 5e8,
          contiguous_gradients: true,
          round_robin_gradients: true,
        }
      : {
          stage: 3,
          offload_optimizer: offload(options.offload),
          offload_param: offload(options.offload),
          overlap_comm: false,
          contiguous_gradients: true,
          sub_group_size: 1e9,
          reduce_bucket_size: 'auto',
          stage3_prefetch_bucket_size: 'auto',
          stage3_param_persistence_threshold: 'auto',
          stage3_max_live_parameters: 1e9,
          stage3_max_reuse_distance: 1e9,
          // Without it a ZeRO-3 save writes empty placeholders instead of the adapter / model weights.
          stage3_gather_16bit_weights_on_model_save: true,
        };
  return {
    train_batch_size: 'auto',
    train_micro_batch_size_per_gpu: 'auto',
    gradient_accumulation_steps: 'auto',
    gradient_clipping: 'auto',
    // The Trainer builds its own AdamW; DeepSpeed refuses optimizers it has not tested unless told.
    zero_allow_untested_optimizer: true,
    fp16: { enabled: 'auto', loss_scale: 0, loss_scale_window: 1000, initial_scale_power: 16, hysteresis: 2, min_loss_scale: 1 },
    bf16: { enabled: 'auto' },
    zero_optimization: zero,
  };
}

export interface AccelerateOptions {
  /** File name of the DeepSpeed json beside the accelerate config (strategy zero2 / zero3). */
  readonly deepspeedConfigFile?: string;
}

/** Defaults the environment lines and accelerate's config share: torchrun's usual rendezvous port. */
export const DEFAULT_MASTER_ADDR = '127.0.0.1';
export const DEFAULT_MASTER_PORT = 29500;

/** The number of training processes: GPUs per node × nodes. */
export function worldSize(launch: Pick<HandoffLaunch, 'gpus' | 'nodes'>): number {
  return launch.gpus * launch.nodes;
}

/**
 * accelerate's config yaml (as an object) for the launch: plain, DDP, FSDP full shard or DeepSpeed. It is
 * written for node 0; other nodes override `machine_rank` / `main_process_ip` on the `accelerate launch`
 * command line, as the bundle's launch script does from NODE_RANK / MASTER_ADDR.
 *
 * @example
 * accelerateConfig({ gpus: 8, nodes: 2, strategy: 'fsdp', precision: 'bf16', outputDir: 'output' }).num_processes; // 16
 */
export function accelerateConfig(launch: HandoffLaunch, options: AccelerateOptions = {}): Record<string, unknown> {
  checkLaunch(launch);
  const world = worldSize(launch);
  const deepspeed = launch.strategy === 'zero2' || launch.strategy === 'zero3';
  if (deepspeed && !options.deepspeedConfigFile) {
    throw new MmftError(
      'E_CONFIG',
      `accelerateConfig: strategy ${launch.strategy} needs the DeepSpeed json's file name (deepspeedConfigFile)`,
    );
  }
  const distributedType = deepspeed ? 'DEEPSPEED' : launch.strategy === 'fsdp' ? 'FSDP' : world > 1 ? 'MULTI_GPU' : 'NO';
  const config: Record<string, unknown> = {
    compute_environment: 'LOCAL_MACHINE',
    debug: false,
    distributed_type: distributedType,
    mixed_precision: launch.precision === 'fp32' ? 'no' : launch.precision,
    num_machines: launch.nodes,
    // accelerate counts processes over all machines, not per machine (multi_node.yaml).
    num_processes: world,
    machine_rank: 0,
    main_training_function: 'main',
    use_cpu: false,
  };
  if (launch.nodes > 1) {
    Object.assign(config, {
      main_process_ip: DEFAULT_MASTER_ADDR,
      main_process_port: DEFAULT_MASTER_PORT,
      rdzv_backend: 'static',
      same_network: true,
    });
  }
  if (deepspeed) {
    config.deepspeed_config = {
      deepspeed_config_file: options.deepspeedConfigFile,
      // ZeRO-3 must build the model already partitioned, else every rank loads the whole model first.
      zero3_init_flag: launch.strategy === 'zero3',
      // accelerate's default multi-node launcher is pdsh (ssh from node 0); torchrun-style on each node matches the other targets.
      ...(launch.nodes > 1 ? { deepspeed_multinode_launcher: 'standard' } : {}),
    };
  }
  if (launch.strategy === 'fsdp') {
    config.fsdp_config = {
      fsdp_auto_wrap_policy: 'TRANSFORMER_BASED_WRAP',
      fsdp_backward_prefetch: 'BACKWARD_PRE',
      fsdp_cpu_ram_efficient_loading: true,
      fsdp_forward_prefetch: false,
      fsdp_offload_params: false,
      fsdp_sharding_strategy: 'FULL_SHARD',
      // A full state dict so the saved adapter / model is one ordinary file set `mmft import` reads.
      fsdp_state_dict_type: 'FULL_STATE_DICT',
      fsdp_sync_module_states: true,
      // PEFT freezes most parameters; FSDP needs the original parameters to mix frozen and trainable ones.
      fsdp_use_orig_params: true,
    };
  }
  return config;
}

/**
 * Shell lines exporting the torchrun-style variables LLaMA-Factory, ms-swift and torchrun read, each with a
 * default so a single node runs as written and other nodes set NODE_RANK / MASTER_ADDR before launching.
 *
 * @example
 * distributedEnvLines({ gpus: 4, nodes: 2, ... })[1]; // 'export NODE_RANK="${NODE_RANK:-0}"'
 */
export function distributedEnvLines(launch: HandoffLaunch): string[] {
  checkLaunch(launch);
  const line = (name: string, value: string | number) => `export ${name}="\${${name}:-${value}}"`;
  return [
    line('NNODES', launch.nodes),
    line('NODE_RANK', 0),
    line('MASTER_ADDR', DEFAULT_MASTER_ADDR),
    line('MASTER_PORT', DEFAULT_MASTER_PORT),
    line('NPROC_PER_NODE', launch.gpus),
  ];
}

export interface PerDeviceBatch {
  /** per_device_train_batch_size. */
  readonly perDevice: number;
  /** gradient_accumulation_steps. */
  readonly accum: number;
  /** Processes: gpus × nodes. */
  readonly world: number;
  /** Examples per optimizer step the engine will use: perDevice × accum × world. */
  readonly global: number;
  /** True when `global` equals mmft's batchSize × gradAccum. */
  readonly exact: boolean;
}

/**
 * Splits mmft's global batch (batch_size × grad_accum_steps, all on one process) over the world so the
 * optimizer sees the same number of examples per step. The per-device batch never exceeds the recipe's
 * batch_size (the micro-batch the recipe proved fits in memory); accumulation makes up the rest. When the
 * world does not divide the global batch, the nearest achievable one is used and `exact` is false.
 *
 * @example
 * perDeviceBatch(plan, launch); // batchSize 4, gradAccum 4, 8 GPUs → { perDevice: 2, accum: 1, world: 8, global: 16, exact: true }
 */
export function perDeviceBatch(plan: Pick<HandoffPlan, 'train'>, launch: Pick<HandoffLaunch, 'gpus' | 'nodes'>): PerDeviceBatch {
  checkLaunch(launch);
  const { batchSize, gradAccum } = plan.train;
  if (!(Number.isInteger(batchSize) && batchSize >= 1 && Number.isInteger(gradAccum) && gradAccum >= 1)) {
    throw new MmftError('E_CONFIG', `train.batch_size (${batchSize}) and train.grad_accum_steps (${gradAccum}) must be positive integers`);
  }
  const world = worldSize(launch);
  const target = batchSize * gradAccum;
  const perRank = Math.max(1, Math.round(target / world));
  let perDevice = Math.min(batchSize, perRank);
  while (perRank % perDevice !== 0) perDevice -= 1;
  const accum = perRank / perDevice;
  const global = perDevice * accum * world;
  return { perDevice, accum, world, global, exact: global === target };
}

const HF_SCHEDULERS: Readonly<Record<string, string>> = {
  linear: 'linear',
  cosine: 'cosine',
  // HF's plain "constant" ignores warmup; mmft's constant schedule warms up first (trainer-standard/src/optim/schedule.ts).
  constant: 'constant_with_warmup',
};

/**
 * transformers' `lr_scheduler_type` for mmft's schedule name (linear and cosine decay to 0 after warmup
 * in both; cosine with half a cycle).
 *
 * @example
 * hfSchedulerName('constant'); // 'constant_with_warmup'
 */
export function hfSchedulerName(schedule: string): string {
  const name = HF_SCHEDULERS[schedule];
  if (!name) {
    throw new MmftError('E_CONFIG', `train.schedule "${schedule}" has no transformers lr_scheduler_type`, {
      hint: `use one of ${Object.keys(HF_SCHEDULERS).join(', ')}`,
    });
  }
  return name;
}

function checkLaunch(launch: Pick<HandoffLaunch, 'gpus' | 'nodes'>): void {
  for (const [flag, value] of [
    ['--gpus', launch.gpus],
    ['--nodes', launch.nodes],
  ] as const) {
    if (!(Number.isInteger(value) && value >= 1)) {
      throw new MmftError('E_INPUT', `${flag} must be a positive integer, got ${String(value)}`);
    }
  }
}
