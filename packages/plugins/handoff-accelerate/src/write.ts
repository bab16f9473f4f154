// Writes the accelerate bundle: our own train.py (transformers Trainer + peft, assets/train.py), the plan as
// train_config.json, the Trainer's arguments as train_args.json, accelerate's config (core's accelerateConfig),
// the DeepSpeed json when a ZeRO stage is chosen, launch.sh and requirements.txt. Values live in the JSON
// files so the script stays the same for every recipe.
import * as fs from 'node:fs';
import * as path from 'node:path';
import {
  MmftError,
  accelerateConfig,
  deepspeedConfig,
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
import { stringify } from 'yaml';
import type { AccelerateTargetConfig } from './config';

/** The script every bundle carries (assets/ sits beside src/ and dist/). */
export const TRAIN_PY = path.join(__dirname, '..', 'assets', 'train.py');

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

  const batch = perDeviceBatch(plan, launch);
  if (!batch.exact) {
    gaps.push({
      field: 'train.batch_size',
      why: `${batch.world} processes cannot split the global batch ${plan.train.batchSize * plan.train.gradAccum}; the run uses ${batch.global} examples per step`,
    });
  }
  const args: Record<string, unknown> = {};
  const put = (key: string, value: unknown, mmft?: string, note?: string) => {
    args[key] = value;
    if (mmft) map(mmft, `${key} (train_args.json)`, note);
  };
  put('output_dir', launch.outputDir);
  const batchNote = `${plan.train.batchSize} × ${plan.train.gradAccum} on one process = ${batch.perDevice} per device × ${batch.accum} accumulation × ${batch.world} processes`;
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

/** launch.sh: accelerate launch from the bundle with the machine layout taken from the environment. */
export function launchScript(plan: HandoffPlan, launch: HandoffLaunch): string {
  return [
    '#!/usr/bin/env bash',
    `# Hugging Face accelerate training of "${plan.name}", written by mmft handoff from ${path.basename(plan.recipeFile)}.`,
    '# pip install -r requirements.txt, then: bash launch.sh',
    nodesLine(launch, 'bash launch.sh'),
    `# The adapter (or model) and the processor land in ${launch.outputDir}/; bring them back with mmft import.`,
    'set -euo pipefail',
    'cd "$(dirname "$0")"',
    ...distributedEnvLines(launch),
    'accelerate launch --config_file accelerate_config.yaml \\',
    '  --num_machines "$NNODES" --num_processes "$((NNODES * NPROC_PER_NODE))" \\',
    '  --machine_rank "$NODE_RANK" --main_process_ip "$MASTER_ADDR" --main_process_port "$MASTER_PORT" \\',
    '  train.py',
    '',
  ].join('\n');
}

/** The script header line on nodes: how to start each one, or that the batch split assumes this layout. */
export function nodesLine(launch: HandoffLaunch, command: string): string {
  return launch.nodes > 1
    ? `# On each of the ${launch.nodes} nodes: NODE_RANK=<0..${launch.nodes - 1}> MASTER_ADDR=<node 0 address> ${command}`
    : `# Written for 1 node × ${launch.gpus} GPU(s), which the batch split assumes; for more nodes rerun mmft handoff with --nodes.`;
}

/** requirements.txt: what train.py imports, plus the engines the launch needs. */
export function requirements(plan: HandoffPlan, launch: HandoffLaunch): string {
  const lines = ['torch>=2.1', 'transformers>=4.46', 'peft>=0.10', 'accelerate>=1.0', 'pillow'];
  if (launch.strategy === 'zero2' || launch.strategy === 'zero3') lines.push('deepspeed>=0.14');
  if (plan.model.quantization) lines.push('bitsandbytes>=0.43');
  return lines.join('\n') + '\n';
}

/** Writes the bundle's accelerate files. */
export async function writeAccelerateBundle(
  plan: HandoffPlan,
  data: HandoffData,
  launch: HandoffLaunch,
  bundleDir: string,
  config: AccelerateTargetConfig,
): Promise<HandoffResult> {
  const planned = acceleratePlanFiles(plan, data, launch);
  const files: string[] = [];
  const write = (name: string, text: string, mode?: number) => {
    fs.writeFileSync(path.join(bundleDir, name), text, mode === undefined ? undefined : { mode });
    files.push(name);
  };
  write('train.py', fs.readFileSync(TRAIN_PY, 'utf8'), 0o755);
  write('train_config.json', JSON.stringify(planned.trainConfig, null, 2) + '\n');
  write('train_args.json', JSON.stringify(planned.trainArgs, null, 2) + '\n');
  let deepspeedFile: string | undefined;
  if (launch.strategy === 'zero2' || launch.strategy === 'zero3') {
    deepspeedFile = launch.strategy === 'zero2' ? 'ds_zero2.json' : 'ds_zero3.json';
    write(
      deepspeedFile,
      JSON.stringify(deepspeedConfig(launch.strategy === 'zero2' ? 2 : 3, { offload: config.deepspeed_offload }), null, 2) + '\n',
    );
  }
  write('accelerate_config.yaml', stringify(accelerateConfig(launch, deepspeedFile ? { deepspeedConfigFile: deepspeedFile } : {})));
  write('launch.sh', launchScript(plan, launch), 0o755);
  write('requirements.txt', requirements(plan, launch));
  const mappings: HandoffMapping[] = [
    ...planned.mappings,
    {
      mmft: 'launch',
      target: `accelerate_config.yaml${deepspeedFile ? `, ${deepspeedFile}` : ''}`,
      note: `${launch.strategy}, ${launch.gpus} GPU(s) × ${launch.nodes} node(s), ${launch.precision}`,
    },
  ];
  const env = launch.nodes > 1 ? 'NODE_RANK=$NODE_RANK MASTER_ADDR=$MASTER_ADDR ' : '';
  return {
    files,
    commands: ['pip install -r requirements.txt', `${env}bash launch.sh`],
    mappings,
    gaps: planned.gaps,
    output: launch.outputDir,
  };
}
