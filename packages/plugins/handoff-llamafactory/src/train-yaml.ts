// train.yaml for `llamafactory-cli train`: the plan as LLaMA-Factory's model, method, dataset and training
// arguments (hiyouga/LLaMA-Factory@ff6d4d1:src/llamafactory/hparams/*; model/model_utils/misc.py for lora_target "all"),
// with the mapping of each recipe field and the gaps.
import {
  hfSchedulerName,
  MmftError,
  perDeviceBatch,
  type HandoffData,
  type HandoffGap,
  type HandoffLaunch,
  type HandoffMapping,
  type HandoffPlan,
} from '@mmft/core';
import type { LlamaFactoryConfig } from './config';
import { COMPOSITE, llamaFactoryTemplate } from './template';
import { yamlScalar, yamlText, type Entry } from './yaml';

/** lora_target for LLaMA-Factory, or an error when the recipe's target cannot be written as module names. */
function loraTarget(plan: HandoffPlan, gaps: HandoffGap[], mappings: HandoffMapping[]): string {
  const peft = plan.peft!;
  if (peft.targetModules === 'all-linear') {
    // LLaMA-Factory's "all" is every Linear but lm_head and the projector, and the vision tower when it
    // is frozen (misc.py find_all_linear_modules): PEFT's all-linear with exclude_modules on those parts.
    mappings.push({
      mmft: 'peft.target_modules',
      target: 'lora_target (train.yaml)',
      note: 'all-linear → all: every Linear but lm_head and the projector; the vision tower only when freeze_vision_tower is false',
    });
    if (COMPOSITE.has(plan.model.modelType) && !plan.freeze.projector && peft.modulesToSave.length === 0) {
      gaps.push({
        field: 'peft.target_modules',
        why: "all-linear puts LoRA on the projector's Linear layers; LLaMA-Factory's all leaves the projector out (add it to peft.modules_to_save to train it whole there)",
      });
    }
    if (peft.excludeModules !== undefined) {
      const ex = typeof peft.excludeModules === 'string' ? peft.excludeModules : peft.excludeModules.join(',');
      if (
        !/^\^?\(?vision_tower/.test(ex) &&
        !(typeof peft.excludeModules !== 'string' && peft.excludeModules.every((m) => m.startsWith('vision_tower')))
      ) {
        gaps.push({
          field: 'peft.exclude_modules',
          why: `"${ex}" excludes more than the vision tower; LLaMA-Factory's "all" excludes whole parts only`,
        });
      } else
        mappings.push({
          mmft: 'peft.exclude_modules',
          target: 'freeze_vision_tower (train.yaml)',
          note: 'the vision tower is left out of lora_target all',
        });
    }
    return 'all';
  }
  if (typeof peft.targetModules === 'string') {
    throw new MmftError(
      'E_UNSUPPORTED',
      `peft.target_modules "${peft.targetModules}" is a regex; LLaMA-Factory's lora_target takes module names`,
      {
        hint: 'list the module names (e.g. [q_proj, v_proj]) or use all-linear',
      },
    );
  }
  mappings.push({ mmft: 'peft.target_modules', target: 'lora_target (train.yaml)', note: 'names joined with commas' });
  if (peft.excludeModules !== undefined)
    gaps.push({ field: 'peft.exclude_modules', why: 'LLaMA-Factory excludes whole frozen parts only (freeze_* keys)' });
  return peft.targetModules.join(',');
}

/**
 * train.yaml's text; the DeepSpeed file it names (ds_z2_config.json / ds_z3_config.json) is the caller's to write.
 *
 * @example
 * trainYaml(plan, data, launch, {}, gaps, mappings).split('\n')[0]; // '# Written by mmft handoff (README.md says what maps and what does not).'
 */
export function trainYaml(
  plan: HandoffPlan,
  data: HandoffData,
  launch: HandoffLaunch,
  config: LlamaFactoryConfig,
  gaps: HandoffGap[],
  mappings: HandoffMapping[],
): string {
  const map = (mmft: string, target: string, note?: string) =>
    mappings.push({ mmft, target: `${target} (train.yaml)`, ...(note ? { note } : {}) });
  const composite = COMPOSITE.has(plan.model.modelType);
  const template = config.template ? { name: config.template, note: 'from the target option template' } : llamaFactoryTemplate(plan);
  if (!template.name) {
    throw new MmftError(
      'E_UNSUPPORTED',
      `objective.template "${plan.template}" on model_type "${plan.model.modelType}" has no LLaMA-Factory template mmft knows to match`,
      {
        hint: "name LLaMA-Factory's template with --target-option template=<name> (e.g. llava, llama2, qwen), or set objective.template to llava_v1, vicuna_v1 or chatml",
      },
    );
  }
  map('objective.template', 'template', template.note);

  const model: Entry[] = [
    ['model_name_or_path', plan.model.path],
    ['trust_remote_code', false],
  ];
  map('model.checkpoint', 'model_name_or_path', plan.model.path === plan.model.localPath ? undefined : `--model-path ${plan.model.path}`);
  const q = plan.model.quantization;
  if (q) {
    model.push(
      ['quantization_method', 'bnb'],
      ['quantization_bit', 4],
      ['quantization_type', q.quantType],
      ['double_quantization', q.doubleQuant],
    );
    map('model.quantization.load_in_4bit', 'quantization_bit, quantization_method', '4-bit bitsandbytes');
    map('model.quantization.quant_type', 'quantization_type');
    map('model.quantization.double_quant', 'double_quantization');
  }
  model.push(['disable_gradient_checkpointing', !plan.train.gradientCheckpointing, 'LLaMA-Factory checkpoints by default']);
  map('train.gradient_checkpointing', 'disable_gradient_checkpointing', 'negated: LLaMA-Factory turns checkpointing on unless disabled');

  const finetune: Entry[] = [
    ['stage', 'sft'],
    ['do_train', true],
  ];
  if (plan.peft) {
    if (plan.peft.method !== 'lora') {
      throw new MmftError(
        'E_UNSUPPORTED',
        `peft.method ${plan.peft.method}: the LLaMA-Factory target writes LoRA (or full fine-tuning without peft)`,
        {
          hint: 'use peft.method lora, or hand off without a peft: section',
        },
      );
    }
    finetune.push(
      ['finetuning_type', 'lora'],
      ['lora_rank', plan.peft.r],
      ['lora_alpha', plan.peft.alpha],
      ['lora_dropout', plan.peft.dropout],
    );
    finetune.push(['lora_target', loraTarget(plan, gaps, mappings)]);
    map('peft.method', 'finetuning_type');
    map('peft.r', 'lora_rank');
    map('peft.lora_alpha', 'lora_alpha');
    map('peft.lora_dropout', 'lora_dropout');
    if (plan.peft.modulesToSave.length > 0) {
      finetune.push(['additional_target', plan.peft.modulesToSave.join(',')]);
      map('peft.modules_to_save', 'additional_target', 'names joined with commas');
    }
    if (plan.peft.useRslora) {
      finetune.push(['use_rslora', true]);
      map('peft.use_rslora', 'use_rslora');
    }
  } else {
    finetune.push(['finetuning_type', 'full']);
    mappings.push({ mmft: '(no peft section)', target: 'finetuning_type: full (train.yaml)' });
  }
  if (composite) {
    finetune.push(
      ['freeze_vision_tower', plan.freeze.vision],
      ['freeze_multi_modal_projector', plan.freeze.projector],
      ['freeze_language_model', plan.freeze.language],
    );
    map(
      'train.freeze / unfreeze, peft parts',
      'freeze_vision_tower, freeze_multi_modal_projector, freeze_language_model',
      'resolved to which parts train',
    );
  } else if (plan.freeze.language) {
    gaps.push({ field: 'train.freeze', why: 'freezing the language model of a text-only model leaves nothing for LLaMA-Factory to train' });
  }

  const dataEntries: Entry[] = [
    ['dataset_dir', 'data'],
    ['dataset', 'mmft_train'],
    ...(data.eval ? ([['eval_dataset', 'mmft_eval']] as Entry[]) : []),
    ['template', template.name],
    ['cutoff_len', plan.maxLength],
    ['train_on_prompt', plan.trainOnPrompt],
    // The rows carry the system turn the objective renders; without one LLaMA-Factory would add its template's default.
    ['default_system', ''],
    ['overwrite_cache', true],
  ];
  map('objective.max_length', 'cutoff_len');
  map('objective.train_on_prompt', 'train_on_prompt');
  map('objective.default_system', 'default_system', 'written into each row as its system turn; the yaml default is empty so none is added');

  const batch = perDeviceBatch(plan, launch);
  const world = launch.gpus * launch.nodes;
  const note = `${plan.train.batchSize * plan.train.gradAccum} examples per step (batch_size ${plan.train.batchSize} × grad_accum_steps ${plan.train.gradAccum}) = ${batch.perDevice} per device × ${batch.accum} accumulation × ${world} processes${batch.exact ? '' : ` = ${batch.global} (nearest)`}`;
  map('train.batch_size', 'per_device_train_batch_size', note);
  map('train.grad_accum_steps', 'gradient_accumulation_steps', note);
  if (!batch.exact) {
    gaps.push({
      field: 'train.batch_size',
      why: `${plan.train.batchSize * plan.train.gradAccum} examples per step cannot be split over ${world} processes; ${batch.global} are used`,
    });
  }
  const t = plan.train;
  const training: Entry[] = [
    ['output_dir', launch.outputDir],
    ['overwrite_output_dir', true],
    ['per_device_train_batch_size', batch.perDevice],
    ['gradient_accumulation_steps', batch.accum],
    ['learning_rate', t.lr],
    ['lr_scheduler_type', hfSchedulerName(t.schedule)],
    ['warmup_steps', t.warmupSteps],
    ...(t.maxSteps !== undefined ? ([['max_steps', t.maxSteps]] as Entry[]) : ([['num_train_epochs', t.epochs ?? 3]] as Entry[])),
    ['weight_decay', t.weightDecay],
    ['adam_beta1', t.betas[0]],
    ['adam_beta2', t.betas[1]],
    ['adam_epsilon', t.eps],
    ['max_grad_norm', t.maxGradNorm],
    ['seed', plan.seed],
    ['logging_steps', t.logEvery],
    ['plot_loss', true],
    ['report_to', 'none'],
    ['ddp_timeout', 180000000],
  ];
  map('train.lr', 'learning_rate');
  map(
    'train.schedule',
    'lr_scheduler_type',
    t.schedule === 'constant' ? 'constant → constant_with_warmup (mmft warms up first)' : undefined,
  );
  map('train.warmup_steps', 'warmup_steps');
  map(t.maxSteps !== undefined ? 'train.max_steps' : 'train.epochs', t.maxSteps !== undefined ? 'max_steps' : 'num_train_epochs');
  map('train.weight_decay', 'weight_decay');
  map('train.betas', 'adam_beta1, adam_beta2');
  map('train.eps', 'adam_epsilon');
  map('train.max_grad_norm', 'max_grad_norm');
  map('train.seed / seed', 'seed');
  map('train.log_every', 'logging_steps');
  for (const [i, group] of t.lrGroups.entries()) {
    gaps.push({
      field: `train.lr_groups.${i}`,
      why: `LLaMA-Factory has one learning rate (no per-part rate for ${group.params}); ${group.params} trains at learning_rate ${yamlScalar(t.lr)}`,
    });
  }
  if (t.saveEvery !== undefined) {
    training.push(['save_strategy', 'steps'], ['save_steps', t.saveEvery]);
    map('train.save_every', 'save_steps');
  } else {
    // mmft writes the result at the end only; the Trainer saves the final adapter to output_dir anyway.
    training.push(['save_strategy', 'no']);
    mappings.push({
      mmft: 'train.save_every (unset)',
      target: 'save_strategy: no (train.yaml)',
      note: 'only the final result, in output_dir',
    });
  }
  if (data.eval) {
    training.push(['per_device_eval_batch_size', batch.perDevice]);
    const steps = t.evalEvery ?? t.maxSteps;
    if (steps !== undefined) training.push(['eval_strategy', 'steps'], ['eval_steps', steps]);
    else training.push(['eval_strategy', 'epoch']);
    map(
      'train.eval_every',
      steps !== undefined ? 'eval_strategy, eval_steps' : 'eval_strategy: epoch',
      t.evalEvery === undefined ? 'mmft evaluates at the end; here at the last step (or each epoch)' : undefined,
    );
  }
  if (launch.precision !== 'fp32') {
    training.push([launch.precision, true]);
    mappings.push({
      mmft: '--precision',
      target: `${launch.precision}: true (train.yaml)`,
      note: 'mmft trains in float32; the engine in mixed precision',
    });
  }
  if (launch.strategy === 'zero2' || launch.strategy === 'zero3') {
    const file = launch.strategy === 'zero2' ? 'ds_z2_config.json' : 'ds_z3_config.json';
    training.push(['deepspeed', file]);
    mappings.push({ mmft: '--strategy', target: `deepspeed: ${file} (train.yaml)` });
  }
  return yamlText([
    { title: 'model', entries: model },
    { title: 'method', entries: finetune },
    { title: 'dataset', entries: dataEntries },
    { title: 'train', entries: training },
  ]);
}
