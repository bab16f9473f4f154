// The train.yaml keys LLaMA-Factory accepts that this target may write, each from the dataclass that
// declares it. `llamafactory-cli train x.yaml` parses the yaml with HfArgumentParser over ModelArguments,
// DataArguments, TrainingArguments (its own, built on transformers' Seq2SeqTrainingArguments),
// FinetuningArguments and GeneratingArguments, and refuses unknown keys (hparams/parser.py). Checked
// by hand against these files; the test asserts every key the target writes is listed here.

/** Where each list was read, `repository@commit:path`. */
export const LLAMAFACTORY_KEY_SOURCES = {
  model: 'hiyouga/LLaMA-Factory@ff6d4d12eeb035d6ce06805a5733dd7b29f2ac30:src/llamafactory/hparams/model_args.py',
  data: 'hiyouga/LLaMA-Factory@ff6d4d12eeb035d6ce06805a5733dd7b29f2ac30:src/llamafactory/hparams/data_args.py',
  finetuning: 'hiyouga/LLaMA-Factory@ff6d4d12eeb035d6ce06805a5733dd7b29f2ac30:src/llamafactory/hparams/finetuning_args.py',
  training: 'hiyouga/LLaMA-Factory@ff6d4d12eeb035d6ce06805a5733dd7b29f2ac30:src/llamafactory/hparams/training_args.py',
  transformers: 'huggingface/transformers@00349ae87eddc872ffa21a8a54f264375a0056a8:src/transformers/training_args.py',
} as const;

/** ModelArguments (BaseModelArguments, QuantizationArguments, ProcessorArguments) fields used here. */
const MODEL_KEYS = [
  'model_name_or_path',
  'trust_remote_code',
  'disable_gradient_checkpointing',
  'quantization_method',
  'quantization_bit',
  'quantization_type',
  'double_quantization',
  'image_max_pixels',
] as const;

/** DataArguments fields used here. */
const DATA_KEYS = [
  'template',
  'dataset',
  'eval_dataset',
  'dataset_dir',
  'media_dir',
  'cutoff_len',
  'train_on_prompt',
  'default_system',
  'overwrite_cache',
  'preprocessing_num_workers',
] as const;

/** FinetuningArguments (FreezeArguments, LoraArguments and its own) fields used here. */
const FINETUNING_KEYS = [
  'stage',
  'finetuning_type',
  'lora_rank',
  'lora_alpha',
  'lora_dropout',
  'lora_target',
  'additional_target',
  'use_rslora',
  'freeze_vision_tower',
  'freeze_multi_modal_projector',
  'freeze_language_model',
  'plot_loss',
] as const;

/** LLaMA-Factory's TrainingArguments additions. */
const LF_TRAINING_KEYS = ['overwrite_output_dir'] as const;

/** transformers' TrainingArguments fields used here (Seq2SeqTrainingArguments inherits them). */
const TRANSFORMERS_KEYS = [
  'output_dir',
  'do_train',
  'per_device_train_batch_size',
  'per_device_eval_batch_size',
  'gradient_accumulation_steps',
  'num_train_epochs',
  'max_steps',
  'learning_rate',
  'lr_scheduler_type',
  'warmup_steps',
  'weight_decay',
  'adam_beta1',
  'adam_beta2',
  'adam_epsilon',
  'max_grad_norm',
  'bf16',
  'fp16',
  'seed',
  'logging_steps',
  'save_strategy',
  'save_steps',
  'eval_strategy',
  'eval_steps',
  'deepspeed',
  'ddp_timeout',
  'report_to',
] as const;

/** Every key this target may write in train.yaml. */
export const LLAMAFACTORY_KEYS: ReadonlySet<string> = new Set<string>([
  ...MODEL_KEYS,
  ...DATA_KEYS,
  ...FINETUNING_KEYS,
  ...LF_TRAINING_KEYS,
  ...TRANSFORMERS_KEYS,
]);

/**
 * Keys of one dataset_info.json entry (hiyouga/LLaMA-Factory@ff6d4d1:src/llamafactory/data/parser.py
 * DatasetAttr: file_name, formatting, columns, tags) and the column / tag names a sharegpt entry takes.
 */
export const DATASET_INFO_KEYS = {
  entry: ['file_name', 'formatting', 'columns', 'tags'],
  columns: [
    'prompt',
    'query',
    'response',
    'history',
    'messages',
    'system',
    'tools',
    'images',
    'videos',
    'audios',
    'chosen',
    'rejected',
    'kto_tag',
  ],
  tags: ['role_tag', 'content_tag', 'user_tag', 'assistant_tag', 'observation_tag', 'function_tag', 'system_tag'],
} as const;
