// The arguments `swift sft` accepts: the dataclass fields of SftArguments and the classes it inherits, read
// from modelscope/ms-swift@3602360a562313afbf2ef6065fdf61f271a2c5b9 (the files named above each group), plus
// transformers' TrainingArguments (SftArguments extends Seq2SeqTrainingArguments through
// swift/trainers/arguments.py). The test checks every `--flag` train.sh writes against this list.
import { HF_TRAINING_ARGUMENTS } from '@mmft/core';

const SWIFT_OWN: readonly string[] = [
  // swift/arguments/sft_args.py
  'swanlab_token', 'swanlab_project', 'swanlab_workspace', 'swanlab_exp_name', 'swanlab_notification_method', 'swanlab_webhook_url',
  'swanlab_secret', 'swanlab_sender_email', 'swanlab_receiver_email', 'swanlab_smtp_server', 'swanlab_smtp_port', 'swanlab_email_language',
  'swanlab_mode', 'add_version', 'create_checkpoint_symlink', 'output_dir', 'learning_rate', 'eval_strategy', 'fp16', 'bf16',
  'max_new_tokens', 'temperature', 'load_args', 'zero_hpz_partition_size', 'deepspeed_autotp_size', 'fsdp',
  // swift/arguments/tuner_args.py
  'freeze_parameters', 'freeze_parameters_regex', 'freeze_parameters_ratio', 'trainable_parameters', 'trainable_parameters_regex',
  'freeze_llm', 'freeze_vit', 'freeze_aligner', 'target_modules', 'target_regex', 'target_parameters', 'modules_to_save', 'lora_rank',
  'lora_alpha', 'lora_dropout', 'lora_bias', 'lora_dtype', 'lorap_lr_ratio', 'use_rslora', 'use_dora', 'lora_ga_batch_size',
  'lora_ga_iters', 'lora_ga_max_length', 'lora_ga_direction', 'lora_ga_scale', 'lora_ga_stable_gamma', 'init_weights',
  'fourier_n_frequency', 'fourier_scaling', 'boft_block_size', 'boft_block_num', 'boft_n_butterfly_factor', 'boft_dropout', 'vera_rank',
  'vera_projection_prng_key', 'vera_dropout', 'vera_d_initial', 'adapter_act', 'adapter_length', 'adalora_target_r', 'adalora_init_r',
  'adalora_tinit', 'adalora_tfinal', 'adalora_beta1', 'adalora_beta2', 'adalora_orth_reg_weight', 'llamapro_num_new_blocks',
  'llamapro_num_groups', 'reft_layer_key', 'reft_layers', 'reft_rank', 'reft_intervention_type', 'reft_args',
  // swift/arguments/base_args/base_args.py
  'tuner_backend', 'tuner_type', 'adapters', 'external_plugins', 'custom_register_path', 'seed', 'model_kwargs', 'enable_npu_model_patch',
  'load_args', 'load_data_args', 'packing', 'packing_length', 'packing_num_proc', 'packing_strategy', 'lazy_tokenize', 'use_hf',
  'hub_token', 'ddp_timeout', 'ddp_backend', 'ignore_args_error', 'use_swift_lora',
  // swift/arguments/base_args/model_args.py
  'model', 'model_type', 'model_revision', 'task_type', 'torch_dtype', 'attn_impl', 'experts_impl', 'new_special_tokens', 'num_labels',
  'problem_type', 'rope_scaling', 'device_map', 'max_memory', 'max_model_len', 'local_repo_path', 'init_strategy',
  // swift/arguments/base_args/data_args.py
  'dataset', 'val_dataset', 'cached_dataset', 'cached_val_dataset', 'split_dataset_ratio', 'data_seed', 'dataset_num_proc',
  'load_from_cache_file', 'dataset_shuffle', 'val_dataset_shuffle', 'streaming', 'interleave_prob', 'stopping_strategy',
  'shuffle_buffer_size', 'download_mode', 'columns', 'strict', 'remove_unused_columns', 'disable_auto_column_mapping', 'model_name',
  'model_author', 'custom_dataset_info',
  // swift/arguments/base_args/template_args.py
  'template', 'system', 'max_length', 'truncation_strategy', 'max_pixels', 'agent_template', 'norm_bbox', 'use_chat_template',
  'padding_side', 'padding_free', 'loss_scale', 'sequence_parallel_size', 'is_binary_loss_scale', 'template_backend', 'response_prefix',
  'enable_thinking', 'preserve_thinking', 'add_non_thinking_prefix', 'disable_ignore_empty_think',
  // swift/arguments/base_args/quant_args.py
  'quant_method', 'quant_bits', 'hqq_axis', 'bnb_4bit_compute_dtype', 'bnb_4bit_quant_type', 'bnb_4bit_use_double_quant',
  'bnb_4bit_quant_storage',
  // swift/arguments/base_args/generation_args.py
  'max_new_tokens', 'temperature', 'top_k', 'top_p', 'repetition_penalty', 'num_beams', 'stream', 'stop_words', 'logprobs', 'top_logprobs',
  'structured_outputs_regex',
  // swift/trainers/arguments.py
  'per_device_train_batch_size', 'per_device_eval_batch_size', 'gradient_accumulation_steps', 'tuner_backend', 'gradient_checkpointing',
  'vit_gradient_checkpointing', 'gradient_checkpointing_kwargs', 'logging_first_step', 'logging_steps', 'router_aux_loss_coef',
  'enable_dft_loss', 'enable_channel_loss', 'safe_serialization', 'max_shard_size', 'weight_decay', 'adam_beta2', 'lr_scheduler_type',
  'lr_scheduler_kwargs', 'report_to', 'dataloader_num_workers', 'dataloader_persistent_workers', 'dataloader_prefetch_factor',
  'use_liger_kernel', 'check_model', 'acc_strategy', 'train_dataloader_shuffle', 'group_by_length', 'max_epochs', 'aligner_lr', 'vit_lr',
  'use_logits_to_keep', 'ds3_gather_for_generation', 'resume_only_model', 'optimizer', 'loss_type', 'mrl_dims', 'eval_metric', 'callbacks',
  'early_stop_interval', 'eval_use_evalscope', 'eval_dataset', 'eval_dataset_args', 'eval_limit', 'eval_generation_config',
  'extra_eval_args', 'tuner_type', 'use_galore', 'galore_target_modules', 'galore_rank', 'galore_update_proj_gap', 'galore_scale',
  'galore_proj_type', 'galore_optim_per_parameter', 'galore_with_embedding', 'galore_quantization', 'galore_proj_quant',
  'galore_proj_bits', 'galore_proj_group_size', 'galore_cos_threshold', 'galore_gamma_proj', 'galore_queue_size', 'lisa_activated_layers',
  'lisa_step_interval', 'use_flash_ckpt', 'logging_dir', 'warmup_ratio',
];

/** Every argument name `swift sft` accepts (without the leading `--`). */
export const SWIFT_SFT_ARGUMENTS: ReadonlySet<string> = new Set([...SWIFT_OWN, ...HF_TRAINING_ARGUMENTS]);

/** Values `--deepspeed` takes by name (swift/arguments/sft_args.py _init_deepspeed), besides a JSON path. */
export const SWIFT_DEEPSPEED_PRESETS: readonly string[] = ['zero0', 'zero1', 'zero2', 'zero3', 'zero2_offload', 'zero3_offload'];
