// What the bundle's files may hold. train_args.json goes through transformers' HfArgumentParser, which refuses
// any key that is not a TrainingArguments field (huggingface/transformers@00349ae:src/transformers/
// training_args.py; the list is core's HF_TRAINING_ARGUMENTS). accelerate_config.yaml keys are accelerate's
// config-file fields: accelerate refuses unknown keys (huggingface/accelerate@002dd35a68fd5d11953d1749dbd3e50a88db3062:
// src/accelerate/commands/config/config_args.py, BaseConfig and ClusterConfig, from_yaml_file); the fsdp and
// deepspeed sub-keys are those of huggingface/accelerate@1a6af0b:examples/config_yaml_templates/{fsdp,deepspeed}.yaml
// (deepspeed_multinode_launcher: the multi-node question of src/accelerate/commands/config/cluster.py).
export { HF_TRAINING_ARGUMENTS } from '@mmft/core';

/** Top-level keys of an accelerate config file that the bundle may write. */
export const ACCELERATE_CONFIG_KEYS: ReadonlySet<string> = new Set([
  'compute_environment',
  'debug',
  'distributed_type',
  'mixed_precision',
  'num_machines',
  'num_processes',
  'machine_rank',
  'main_process_ip',
  'main_process_port',
  'main_training_function',
  'rdzv_backend',
  'same_network',
  'use_cpu',
  'deepspeed_config',
  'fsdp_config',
]);

/** Keys under fsdp_config (accelerate's FullyShardedDataParallelPlugin fields as the config file names them). */
export const ACCELERATE_FSDP_KEYS: ReadonlySet<string> = new Set([
  'fsdp_auto_wrap_policy',
  'fsdp_backward_prefetch',
  'fsdp_cpu_ram_efficient_loading',
  'fsdp_forward_prefetch',
  'fsdp_offload_params',
  'fsdp_sharding_strategy',
  'fsdp_state_dict_type',
  'fsdp_sync_module_states',
  'fsdp_use_orig_params',
  'fsdp_activation_checkpointing',
]);

/** Keys under deepspeed_config when a DeepSpeed json file carries the rest. */
export const ACCELERATE_DEEPSPEED_KEYS: ReadonlySet<string> = new Set([
  'deepspeed_config_file',
  'zero3_init_flag',
  'deepspeed_multinode_launcher',
]);
