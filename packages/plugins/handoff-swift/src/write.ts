// Writes the ms-swift bundle: `train.sh` running `swift sft` with the plan as arguments, under the
// torchrun-style environment ms-swift reads (NPROC_PER_NODE, NNODES, NODE_RANK, MASTER_ADDR, MASTER_PORT).
// Argument names and defaults follow modelscope/ms-swift@3602360a562313afbf2ef6065fdf61f271a2c5b9:
// swift/arguments/{tuner_args.py, sft_args.py, base_args/*.py}, swift/trainers/arguments.py and
// examples/train/multi-node/swift/train_node1.sh. ms-swift's own defaults differ from the Trainer's
// (weight_decay 0.1, adam_beta2 0.95, cosine, lora_alpha 32, lora_dropout 0.05, gradient checkpointing on),
// so every value the plan holds is written out, never left to a default.
import * as fs from 'node:fs';
import * as path from 'node:path';
import {
  distributedEnvLines,
  hfSchedulerName,
  perDeviceBatch,
  type HandoffData,
  type HandoffGap,
  type HandoffLaunch,
  type HandoffMapping,
  type HandoffPlan,
  type HandoffResult,
} from '@mmft/core';
import type { SwiftConfig } from './config';
import { rewriteImageTags } from './rows';
import { swiftModelFor, swiftTemplateFor, type SwiftModel } from './models';

/** One `--flag value...` of `swift sft`. */
export type SwiftArg = readonly [flag: string, ...values: (string | number | boolean)[]];

type Part = 'vision' | 'projector' | 'language';
const FREEZE_FLAG: Readonly<Record<Part, string>> = { vision: 'freeze_vit', projector: 'freeze_aligner', language: 'freeze_llm' };
const LR_FLAG: Readonly<Record<Part, string>> = { vision: 'vit_lr', projector: 'aligner_lr', language: 'learning_rate' };
/** Module names that stand for a whole part in modules_to_save (transformers' LLaVA names, LLaVA's mm_projector). */
const PART_MODULES: Readonly<Record<Part, readonly string[]>> = {
  vision: ['vision_tower', 'vision_model'],
  projector: ['multi_modal_projector', 'mm_projector', 'projector'],
  language: ['language_model'],
};
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
  const put = (flag: string, value: string | number | boolean | readonly (string | number)[], mmft?: string, note?: string) => {
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
  const batch = perDeviceBatch(plan, launch);
  const batchNote = `${plan.train.batchSize} × ${plan.train.gradAccum} on one process = ${batch.perDevice} per device × ${batch.accum} accumulation × ${batch.world} processes`;
  put('per_device_train_batch_size', batch.perDevice, 'train.batch_size', batchNote);
  put('gradient_accumulation_steps', batch.accum, 'train.grad_accum_steps', batchNote);
  if (!batch.exact) {
    gaps.push({
      field: 'train.batch_size',
      why: `${batch.world} processes cannot split the global batch ${plan.train.batchSize * plan.train.gradAccum}; the run uses ${batch.global} examples per step`,
    });
  }
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

type Put = (flag: string, value: string | number | boolean | readonly (string | number)[], mmft?: string, note?: string) => void;

/** Which parts LoRA reaches and which train whole, written as ms-swift's tuner / freeze / target arguments. */
function writeTuner(plan: HandoffPlan, multimodal: boolean, put: Put, gaps: HandoffGap[]): void {
  const peft = plan.peft;
  const parts: Part[] = ['vision', 'projector', 'language'];
  if (!peft) {
    put('tuner_type', 'full', 'peft', 'no peft section: full fine-tuning');
    if (multimodal) for (const part of parts) put(FREEZE_FLAG[part], plan.freeze[part], `train.freeze`);
    return;
  }
  put('tuner_type', 'lora', 'peft.method');
  put('lora_rank', peft.r, 'peft.r');
  put('lora_alpha', peft.alpha, 'peft.lora_alpha');
  put('lora_dropout', peft.dropout, 'peft.lora_dropout');
  if (peft.useRslora) put('use_rslora', true, 'peft.use_rslora');
  // A part saved whole (modules_to_save) must not also get LoRA layers, so its freeze flag keeps LoRA out of it.
  const savedWhole = (part: Part) => peft.modulesToSave.some((name) => PART_MODULES[part].includes(name));
  if (peft.modulesToSave.length > 0) put('modules_to_save', peft.modulesToSave, 'peft.modules_to_save');
  if (peft.targetModules === 'all-linear') {
    put('target_modules', 'all-linear', 'peft.target_modules');
    if (multimodal) {
      for (const part of parts) {
        const lora = !plan.freeze[part] && !savedWhole(part);
        put(
          FREEZE_FLAG[part],
          !lora,
          'peft.exclude_modules',
          `all-linear in ms-swift covers the parts whose freeze flag is false; LoRA ${lora ? 'reaches' : 'skips'} the ${part} part`,
        );
      }
    } else if (peft.excludeModules !== undefined) {
      gaps.push({
        field: 'peft.exclude_modules',
        why: "ms-swift has no exclude list for a text model's all-linear; every Linear but lm_head gets LoRA",
      });
    }
    return;
  }
  const regex = targetRegex(peft.targetModules, peft.excludeModules);
  if (typeof peft.targetModules !== 'string' && peft.excludeModules === undefined)
    put('target_modules', [...peft.targetModules], 'peft.target_modules');
  else {
    put('target_regex', regex, 'peft.target_modules', 'exclude_modules folded in as a negative lookahead');
    if (multimodal && (typeof peft.targetModules === 'string' || typeof peft.excludeModules === 'string')) {
      gaps.push({
        field: 'peft.target_modules',
        why:
          "a regex is matched on mmft's LLaVA module names (language_model.model.layers…); transformers 4.52 and later, " +
          'as ms-swift loads it, names them model.language_model.layers…: check --target_regex against the model ms-swift prints',
      });
    }
  }
}

/** PEFT's matching (a string: full regex match; a list: a name or a `.name` suffix) with exclusions, as one regex. */
export function targetRegex(target: string | readonly string[], exclude?: string | readonly string[]): string {
  const escape = (s: string) => s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
  const names = (list: readonly string[]) => `(?:.*\\.)?(?:${list.map(escape).join('|')})`;
  const positive = typeof target === 'string' ? target : names(target);
  if (exclude === undefined || (typeof exclude !== 'string' && exclude.length === 0))
    return typeof target === 'string' ? target : `^${positive}$`;
  const negative = typeof exclude === 'string' ? exclude : names(exclude);
  return `^(?!(?:${negative})$)(?:${positive})$`;
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

/** Shell-quotes a value when it needs it. */
export function shellQuote(value: string): string {
  return /^[A-Za-z0-9_@%+=:,./-]+$/.test(value) ? value : `'${value.replace(/'/g, `'\\''`)}'`;
}

/** The lines of train.sh. */
export function trainScript(plan: HandoffPlan, launch: HandoffLaunch, args: readonly SwiftArg[], imageRoot: string): string {
  const flags = args.map(([flag, ...values]) => `  --${flag} ${values.map((v) => shellQuote(String(v))).join(' ')}`);
  return [
    '#!/usr/bin/env bash',
    `# ms-swift training of "${plan.name}", written by mmft handoff from ${path.basename(plan.recipeFile)}.`,
    '# Needs an ms-swift with --tuner_type (older releases call it --train_type). Run: bash train.sh',
    launch.nodes > 1
      ? `# On each of the ${launch.nodes} nodes: NODE_RANK=<0..${launch.nodes - 1}> MASTER_ADDR=<node 0 address> bash train.sh`
      : `# Written for 1 node × ${launch.gpus} GPU(s), which the batch split assumes; for more nodes rerun mmft handoff with --nodes.`,
    `# The run lands in ${launch.outputDir}/v<N>-<timestamp>/checkpoint-<step>; bring it back with mmft import.`,
    'set -euo pipefail',
    'cd "$(dirname "$0")"',
    ...distributedEnvLines(launch),
    `# Image paths in the rows are relative to ${imageRoot}/ (ms-swift joins relative paths to ROOT_IMAGE_DIR).`,
    `export ROOT_IMAGE_DIR="$PWD/${imageRoot}"`,
    'swift sft \\',
    flags.join(' \\\n'),
    '',
  ].join('\n');
}

/**
 * Writes train.sh (and, for templates that add their own newline after an image, rows without LLaVA's
 * `<image>\n`) into the bundle.
 */
export async function writeSwiftBundle(
  plan: HandoffPlan,
  data: HandoffData,
  launch: HandoffLaunch,
  bundleDir: string,
  config: SwiftConfig,
): Promise<HandoffResult> {
  const files: string[] = [];
  const model = swiftModelFor(plan.model.architecture);
  let trainFile = data.train;
  let evalFile = data.eval;
  const extraMappings: HandoffMapping[] = [];
  if (model?.imageTagNewline && !config.template) {
    trainFile = await rewriteImageTags(bundleDir, data.train);
    evalFile = data.eval ? await rewriteImageTags(bundleDir, data.eval) : undefined;
    files.push(trainFile, ...(evalFile ? [evalFile] : []));
    extraMappings.push({
      mmft: 'data',
      target: `${trainFile}${evalFile ? `, ${evalFile}` : ''}`,
      note: `${model.template} writes every <image> as "<image>\\n", so these rows drop the newline after <image>`,
    });
  }
  const planned = swiftArguments(plan, data, launch, config, trainFile, evalFile);
  const imageRoot = path.posix.dirname(data.train);
  fs.writeFileSync(path.join(bundleDir, 'train.sh'), trainScript(plan, launch, planned.args, imageRoot), { mode: 0o755 });
  files.push('train.sh');
  const env = launch.nodes > 1 ? 'NODE_RANK=$NODE_RANK MASTER_ADDR=$MASTER_ADDR ' : '';
  return {
    files,
    commands: [`${env}bash train.sh`],
    mappings: [...planned.mappings, ...extraMappings],
    gaps: planned.gaps,
    output: launch.outputDir,
  };
}
