// The plan as `swift sft` arguments, each with the recipe field it came from (write.ts puts them in train.sh).
// Argument names and defaults follow modelscope/ms-swift@3602360a562313afbf2ef6065fdf61f271a2c5b9:
// swift/arguments/{tuner_args.py, sft_args.py, base_args/*.py}, swift/trainers/arguments.py and
// examples/train/multi-node/swift/train_node1.sh. ms-swift's own defaults differ from the Trainer's
// (weight_decay 0.1, adam_beta2 0.95, cosine, lora_alpha 32, lora_dropout 0.05, gradient checkpointing on),
// so every value the plan holds is written out, never left to a default.
import {
  batchSplit,
  hfSchedulerName,
  type HandoffData,
  type HandoffGap,
  type HandoffLaunch,
  type HandoffMapping,
  type HandoffPlan,
} from '@mmft/core';
import type { SwiftConfig } from './config';
import { swiftModelFor, swiftTemplateFor, type SwiftModel } from './models';
import { writeTuner, type Part, type Put, type SwiftArg } from './tuner';

const LR_FLAG: Readonly<Record<Part, string>> = { vision: 'vit_lr', projector: 'aligner_lr', language: 'learning_rate' };
const TORCH_DTYPE = { bf16: 'bfloat16', fp16: 'float16', fp32: 'float32' } as const;

/** What `swiftArguments` decided: the arguments and how each plan field got there. */
export interface SwiftPlanArgs {
  readonly args: SwiftArg[];
  readonly mappings: HandoffMapping[];
  readonly gaps: HandoffGap[];
  /** The swift model (model_type, default template), when mmft knows it. */
  readonly model?: SwiftModel;
}

/**
 * The `swift sft` arguments for a plan. Exported for tests; `writeSwiftBundle` writes them into train.sh.
 *
 * @example
 * swiftArguments(plan, data, launch, {}).args[0]; // ['model', '/abs/models/llava-shapes-base']
 */
export function swiftArguments(
  plan: HandoffPlan,
  data: HandoffData,
  launch: HandoffLaunch,
  config: SwiftConfig,
  trainFile = data.train,
  evalFile = data.eval,
): SwiftPlanArgs {
  const args: SwiftArg[] = [];
  const mappings: HandoffMapping[] = [];
  const gaps: HandoffGap[] = [];
  const put: Put = (flag, value, mmft, note) => {
    args.push([flag, ...(Array.isArray(value) ? value : [value as string | number | boolean])]);
    if (mmft) mappings.push({ mmft, target: `--${flag} (train.sh)`, ...(note ? { note } : {}) });
  };

  put(
    'model',
    plan.model.path,
    'model.checkpoint',
    plan.model.path !== plan.model.localPath ? `--model-path; mmft read ${plan.model.localPath}` : undefined,
  );
  const model = swiftModelFor(plan.model.architecture);
  if (config.model_type) put('model_type', config.model_type, 'model.checkpoint', "the swift target's model_type option");
  else if (model)
    put(
      'model_type',
      model.modelType,
      'model.checkpoint',
      `${plan.model.architecture} → ${model.modelType}: a local folder matches several model types by architecture`,
    );
  else {
    gaps.push({
      field: 'model.checkpoint',
      why: `ms-swift needs --model_type for a local ${plan.model.architecture ?? plan.model.modelType} folder and mmft knows no mapping; add --model_type to train.sh`,
    });
  }
  const multimodal = model?.multimodal ?? false;

  const template = swiftTemplateFor(plan.template, model, config.template);
  if (template.value) put('template', template.value, 'objective.template', template.note);
  if (template.gap) gaps.push({ field: 'objective.template', why: template.gap });
  if (plan.defaultSystem !== undefined) put('system', plan.defaultSystem, 'objective.default_system');
  put('max_length', plan.maxLength, 'objective.max_length');
  put('truncation_strategy', 'right', 'objective.max_length', 'mmft cuts long examples at the end; ms-swift would drop them (delete)');
  put(
    'loss_scale',
    plan.trainOnPrompt ? 'all' : 'default',
    'objective.train_on_prompt',
    plan.trainOnPrompt ? 'all: loss on prompt tokens too' : 'default: loss on assistant turns only',
  );

  put('dataset', trainFile, 'data.train', 'messages + images rows; image paths resolve through ROOT_IMAGE_DIR');
  if (evalFile) put('val_dataset', evalFile, 'data.eval');
  // Older ms-swift split 1% of the training rows off for validation by default; the recipe decides instead.
  put('split_dataset_ratio', 0);

  writeTuner(plan, multimodal, put, gaps);
  if (plan.model.quantization) {
    const q = plan.model.quantization;
    put('quant_method', 'bnb', 'model.quantization', 'bitsandbytes, as mmft QLoRA stores its base');
    put('quant_bits', q.bits, 'model.quantization.bits');
    put('bnb_4bit_quant_type', q.quantType, 'model.quantization.quant_type');
    put('bnb_4bit_use_double_quant', q.doubleQuant, 'model.quantization.double_quant');
    put('bnb_4bit_compute_dtype', TORCH_DTYPE[launch.precision]);
    // FSDP shards the packed 4-bit storage like any other tensor only when it has the compute dtype (ms-swift's fsdp_qlora example).
    if (launch.strategy === 'fsdp') put('bnb_4bit_quant_storage', TORCH_DTYPE[launch.precision]);
  }

  writeLearningRates(plan, multimodal, put, gaps);
  put('weight_decay', plan.train.weightDecay, 'train.weight_decay');
  put('adam_beta1', plan.train.betas[0], 'train.betas');
  put('adam_beta2', plan.train.betas[1], 'train.betas');
  put('adam_epsilon', plan.train.eps, 'train.eps');
  put(
    'lr_scheduler_type',
    hfSchedulerName(plan.train.schedule),
    'train.schedule',
    plan.train.schedule === 'constant' ? 'constant after warmup' : undefined,
  );
  put('warmup_steps', plan.train.warmupSteps, 'train.warmup_steps');
  if (plan.train.maxSteps !== undefined) put('max_steps', plan.train.maxSteps, 'train.max_steps');
  else if (plan.train.epochs !== undefined) put('num_train_epochs', plan.train.epochs, 'train.epochs');
  const { batch, note: batchNote, gap: batchGap } = batchSplit(plan, launch);
  put('per_device_train_batch_size', batch.perDevice, 'train.batch_size', batchNote);
  put('gradient_accumulation_steps', batch.accum, 'train.grad_accum_steps', batchNote);
  if (batchGap) gaps.push(batchGap);
  put('max_grad_norm', plan.train.maxGradNorm, 'train.max_grad_norm');
  if (launch.strategy === 'fsdp') {
    put(
      'gradient_checkpointing',
      false,
      'train.gradient_checkpointing',
      "FSDP2 checkpoints activations itself (activation_checkpointing in ms-swift's fsdp2 preset)",
    );
  } else {
    put('gradient_checkpointing', plan.train.gradientCheckpointing, 'train.gradient_checkpointing');
  }
  put('torch_dtype', TORCH_DTYPE[launch.precision]);
  if (launch.strategy === 'zero2' || launch.strategy === 'zero3') put('deepspeed', launch.strategy, undefined);
  if (launch.strategy === 'fsdp') put('fsdp', 'fsdp2');

  put('output_dir', launch.outputDir);
  put('seed', plan.seed, 'seed');
  put('data_seed', plan.seed, 'seed');
  put('logging_steps', plan.train.logEvery, 'train.log_every');
  if (plan.train.saveEvery !== undefined) put('save_steps', plan.train.saveEvery, 'train.save_every');
  else if (plan.train.maxSteps !== undefined)
    put('save_steps', plan.train.maxSteps, 'train.save_every', 'mmft saves at the end only: one checkpoint at max_steps');
  if (evalFile) {
    if (plan.train.evalEvery !== undefined) {
      put('eval_strategy', 'steps', 'train.eval_every');
      put('eval_steps', plan.train.evalEvery, 'train.eval_every');
    } else {
      mappings.push({
        mmft: 'train.eval_every',
        target: '(ms-swift default)',
        note: 'ms-swift evaluates at every save; mmft evaluates once at the end',
      });
    }
  }
  return { args, mappings, gaps, ...(model ? { model } : {}) };
}

/** mmft's per-part rates as ms-swift's vit_lr / aligner_lr / learning_rate (the language model's rate). */
function writeLearningRates(plan: HandoffPlan, multimodal: boolean, put: Put, gaps: HandoffGap[]): void {
  const groups = plan.train.lrGroups;
  const rate = (part: Part) => groups.find((g) => g.params === part)?.lr;
  if (!multimodal || groups.length === 0) {
    put('learning_rate', plan.train.lr, 'train.lr');
    groups.forEach((g) =>
      gaps.push({ field: 'train.lr_groups', why: `a ${g.params} rate needs a multimodal model in ms-swift (vit_lr / aligner_lr)` }),
    );
    return;
  }
  // ms-swift's learning_rate is the language model's; the other parts take train.lr unless a group names them.
  put('learning_rate', rate('language') ?? plan.train.lr, rate('language') !== undefined ? 'train.lr_groups' : 'train.lr');
  for (const part of ['vision', 'projector'] as const) {
    if (plan.freeze[part]) continue;
    const lr = rate(part) ?? plan.train.lr;
    put(
      LR_FLAG[part],
      lr,
      rate(part) !== undefined ? 'train.lr_groups' : 'train.lr',
      rate(part) !== undefined ? `${part} group` : `the ${part} part keeps train.lr`,
    );
  }
}
