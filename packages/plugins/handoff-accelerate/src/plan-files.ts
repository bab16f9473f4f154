// The plan as the two JSON files train.py reads: train_config.json (model, template, parts, LoRA, per-part
// rates) and train_args.json (transformers TrainingArguments, checked against core's HF_TRAINING_ARGUMENTS),
// with the mapping of each recipe field and the gaps.
import {
  MmftError,
  batchSplit,
  hfSchedulerName,
  type HandoffData,
  type HandoffGap,
  type HandoffLaunch,
  type HandoffMapping,
  type HandoffPlan,
} from '@mmft/core';

/** How train.py loads the model: LLaVA through LlavaForConditionalGeneration + AutoProcessor, text LMs through AutoModelForCausalLM. */
export type ModelKind = 'llava' | 'causal-lm';

/** The model kind train.py can train, from config.json's architecture. */
export function modelKind(plan: HandoffPlan): ModelKind {
  const arch = plan.model.architecture ?? '';
  if (arch === 'LlavaForConditionalGeneration') return 'llava';
  if (/(ForCausalLM|LMHeadModel)$/.test(arch)) return 'causal-lm';
  throw new MmftError(
    'E_UNSUPPORTED',
    `the accelerate target's train.py trains LLaVA and causal LMs, not ${arch || plan.model.modelType} (${plan.model.localPath})`,
    {
      hint: 'hand this model off with --to llamafactory or --to swift',
    },
  );
}

/** train_config.json: what train.py reads besides the Trainer's arguments. */
export interface TrainConfig {
  readonly model: {
    readonly path: string;
    readonly kind: ModelKind;
    readonly quantization?: { readonly quant_type: string; readonly double_quant: boolean };
  };
  readonly template: string;
  readonly default_system?: string;
  readonly max_length: number;
  readonly train_on_prompt: boolean;
  readonly freeze: HandoffPlan['freeze'];
  readonly peft?: {
    readonly r: number;
    readonly lora_alpha: number;
    readonly lora_dropout: number;
    readonly target_modules: string | readonly string[];
    readonly exclude_modules?: string | readonly string[];
    readonly modules_to_save: readonly string[];
    readonly use_rslora: boolean;
  };
  readonly lr_groups: Readonly<Record<string, number>>;
  readonly data: { readonly train: string; readonly eval?: string };
  /** Evaluate once after training (mmft's default when no eval_every is set). */
  readonly evaluate_at_end: boolean;
  /** ZeRO-3 or FSDP: no device_map for a 4-bit base, the engine places the shards. */
  readonly sharded: boolean;
  /** Trainable weights in float32 as mmft keeps them (not under FSDP, whose flat parameters share one dtype). */
  readonly upcast_trainable: boolean;
}

export interface AcceleratePlanFiles {
  readonly trainConfig: TrainConfig;
  readonly trainArgs: Record<string, unknown>;
  readonly mappings: HandoffMapping[];
  readonly gaps: HandoffGap[];
}

/**
 * The plan as train_config.json and train_args.json. Exported for tests.
 *
 * @example
 * acceleratePlanFiles(plan, data, launch).trainArgs.lr_scheduler_type; // 'cosine'
 */
export function acceleratePlanFiles(plan: HandoffPlan, data: HandoffData, launch: HandoffLaunch): AcceleratePlanFiles {
  const mappings: HandoffMapping[] = [];
  const gaps: HandoffGap[] = [];
  const map = (mmft: string, target: string, note?: string) => mappings.push({ mmft, target, ...(note ? { note } : {}) });
  const kind = modelKind(plan);
  const sharded = launch.strategy === 'zero3' || launch.strategy === 'fsdp';

  map(
    'model.checkpoint',
    'model.path (train_config.json)',
    plan.model.path !== plan.model.localPath ? `--model-path; mmft read ${plan.model.localPath}` : undefined,
  );
  const q = plan.model.quantization;
  if (q)
    map(
      'model.quantization',
      'model.quantization (train_config.json)',
      'BitsAndBytesConfig 4-bit, compute and storage dtype = --precision',
    );
  map('objective.template', 'template (train_config.json)', "train.py renders mmft's templates as the causal-LM objective does");
  map('objective.max_length', 'max_length (train_config.json)');
  map('objective.train_on_prompt', 'train_on_prompt (train_config.json)');
  map('train.freeze', 'freeze (train_config.json)');
  if (plan.peft) {
    map('peft.r', 'peft.r (train_config.json)');
    map('peft.lora_alpha', 'peft.lora_alpha (train_config.json)');
    map('peft.lora_dropout', 'peft.lora_dropout (train_config.json)');
    map('peft.target_modules', 'peft.target_modules (train_config.json)');
    if (plan.peft.excludeModules !== undefined) {
      map(
        'peft.exclude_modules',
        'peft.exclude_modules (train_config.json)',
        "train.py resolves the targets on mmft's module names, in either transformers LLaVA layout",
      );
    }
    if (plan.peft.modulesToSave.length > 0) map('peft.modules_to_save', 'peft.modules_to_save (train_config.json)');
  }
  const lrGroups: Record<string, number> = {};
  for (const group of plan.train.lrGroups) {
    if (kind === 'causal-lm' && group.params !== 'language') {
      gaps.push({ field: 'train.lr_groups', why: `a text model has no ${group.params} part` });
      continue;
    }
    lrGroups[group.params] = group.lr;
    map(
      'train.lr_groups',
      `lr_groups.${group.params} (train_config.json)`,
      'one AdamW parameter group per part (PartRateTrainer in train.py)',
    );
  }

  const { batch, note: batchNote, gap: batchGap } = batchSplit(plan, launch);
  if (batchGap) gaps.push(batchGap);
  const args: Record<string, unknown> = {};
  const put = (key: string, value: unknown, mmft?: string, note?: string) => {
    args[key] = value;
    if (mmft) map(mmft, `${key} (train_args.json)`, note);
  };
  put('output_dir', launch.outputDir);
  put('per_device_train_batch_size', batch.perDevice, 'train.batch_size', batchNote);
  put('gradient_accumulation_steps', batch.accum, 'train.grad_accum_steps', batchNote);
  put('per_device_eval_batch_size', batch.perDevice);
  if (plan.train.maxSteps !== undefined) put('max_steps', plan.train.maxSteps, 'train.max_steps');
  else if (plan.train.epochs !== undefined) put('num_train_epochs', plan.train.epochs, 'train.epochs');
  put('learning_rate', plan.train.lr, 'train.lr');
  put(
    'lr_scheduler_type',
    hfSchedulerName(plan.train.schedule),
    'train.schedule',
    plan.train.schedule === 'constant' ? 'constant after warmup' : undefined,
  );
  put('warmup_steps', plan.train.warmupSteps, 'train.warmup_steps');
  put('weight_decay', plan.train.weightDecay, 'train.weight_decay');
  put('adam_beta1', plan.train.betas[0], 'train.betas');
  put('adam_beta2', plan.train.betas[1], 'train.betas');
  put('adam_epsilon', plan.train.eps, 'train.eps');
  put('max_grad_norm', plan.train.maxGradNorm, 'train.max_grad_norm');
  put('bf16', launch.precision === 'bf16');
  put('fp16', launch.precision === 'fp16');
  put('gradient_checkpointing', plan.train.gradientCheckpointing, 'train.gradient_checkpointing');
  // Non-reentrant checkpointing works with frozen inputs (PEFT) and with unused parameters under DDP.
  if (plan.train.gradientCheckpointing) put('gradient_checkpointing_kwargs', { use_reentrant: false });
  put('logging_steps', plan.train.logEvery, 'train.log_every');
  if (plan.train.saveEvery !== undefined) {
    put('save_strategy', 'steps', 'train.save_every');
    put('save_steps', plan.train.saveEvery, 'train.save_every');
  } else put('save_strategy', 'no', 'train.save_every', 'mmft saves at the end only; train.py saves the result into output/');
  if (data.eval && plan.train.evalEvery !== undefined) {
    put('eval_strategy', 'steps', 'train.eval_every');
    put('eval_steps', plan.train.evalEvery, 'train.eval_every');
  } else {
    put('eval_strategy', 'no');
    if (data.eval)
      map('train.eval_every', 'evaluate_at_end (train_config.json)', 'one evaluation after training, as mmft does without eval_every');
  }
  put('prediction_loss_only', true);
  put('seed', plan.seed, 'seed');
  put('data_seed', plan.seed, 'seed');
  // train.py's collator takes the whole row; the Trainer must not drop columns the model's forward does not name.
  put('remove_unused_columns', false);
  put('report_to', 'none');
  // A batch without an image leaves the projector (and frozen-looking parts) without gradients under DDP.
  if (kind === 'llava') put('ddp_find_unused_parameters', true);

  const trainConfig: TrainConfig = {
    model: { path: plan.model.path, kind, ...(q ? { quantization: { quant_type: q.quantType, double_quant: q.doubleQuant } } : {}) },
    template: plan.template,
    ...(plan.defaultSystem !== undefined ? { default_system: plan.defaultSystem } : {}),
    max_length: plan.maxLength,
    train_on_prompt: plan.trainOnPrompt,
    freeze: plan.freeze,
    ...(plan.peft
      ? {
          peft: {
            r: plan.peft.r,
            lora_alpha: plan.peft.alpha,
            lora_dropout: plan.peft.dropout,
            target_modules: plan.peft.targetModules,
            ...(plan.peft.excludeModules !== undefined ? { exclude_modules: plan.peft.excludeModules } : {}),
            modules_to_save: plan.peft.modulesToSave,
            use_rslora: plan.peft.useRslora,
          },
        }
      : {}),
    lr_groups: lrGroups,
    data: { train: data.train, ...(data.eval ? { eval: data.eval } : {}) },
    evaluate_at_end: data.eval !== undefined && plan.train.evalEvery === undefined,
    sharded,
    upcast_trainable: launch.strategy !== 'fsdp',
  };
  return { trainConfig, trainArgs: args, mappings, gaps };
}
