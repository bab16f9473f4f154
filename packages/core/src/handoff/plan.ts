// A validated recipe as the neutral plan every handoff target translates (contracts/handoff.ts):
// the model read from its config.json only (no weights), which parts train, the LoRA / QLoRA
// settings and the optimisation, each in mmft's meaning. Whatever the plan cannot carry is a gap,
// so the bundle README lists it instead of dropping it. Which parts train is worked out in freeze.ts.
import * as fs from 'node:fs';
import * as path from 'node:path';
import type { HandoffGap, HandoffPlan } from '../contracts/handoff';
import { MmftError } from '../errors';
import { num, obj, partOf, resolveFreeze, strings, type Obj } from './freeze';

export type { ModelPart } from './freeze';

/** Options of `handoffPlan`. */
export interface HandoffPlanOptions {
  /** How the target machines find the base model (a hub id or their path); default the checkpoint folder. */
  readonly modelPath?: string;
}

function readConfigJson(dir: string): Obj {
  const file = path.join(dir, 'config.json');
  let text: string;
  try {
    text = fs.readFileSync(file, 'utf8');
  } catch (cause) {
    throw new MmftError('E_INPUT', `${file} cannot be read: a handoff needs the base model's config.json`, {
      cause,
      hint: 'set model.checkpoint to a Hugging Face model folder (config.json, weights, tokenizer)',
    });
  }
  try {
    return JSON.parse(text) as Obj;
  } catch (cause) {
    throw new MmftError('E_INPUT', `${file} is not valid JSON`, { cause, hint: 'repair or replace the model folder' });
  }
}

/** "chat" when the model folder has a chat template (what objective template auto picks), else "plain". */
function autoTemplate(dir: string): string {
  if (fs.existsSync(path.join(dir, 'chat_template.jinja')) || fs.existsSync(path.join(dir, 'chat_template.json'))) return 'chat';
  try {
    const config = JSON.parse(fs.readFileSync(path.join(dir, 'tokenizer_config.json'), 'utf8')) as Obj;
    return config.chat_template ? 'chat' : 'plain';
  } catch {
    return 'plain';
  }
}

/**
 * The plan of a validated recipe (`validateRecipe(...).value`), reading only the base model's config.json.
 *
 * @example
 * const plan = handoffPlan(recipe, '/abs/recipes/x.yaml', '/abs/recipes', { modelPath: 'llava-hf/llava-1.5-7b-hf' });
 */
export function handoffPlan(recipe: Obj, recipeFile: string, baseDir: string, options: HandoffPlanOptions = {}): HandoffPlan {
  const gaps: HandoffGap[] = [];
  const model = obj(recipe.model) ?? {};
  if (typeof model.checkpoint !== 'string') {
    throw new MmftError('E_RECIPE', `${recipeFile}: model.checkpoint is not set; a handoff starts from a model folder`, {
      hint: 'set model.checkpoint to a Hugging Face model folder (fresh weights from model.config stay with mmft train)',
    });
  }
  const localPath = path.resolve(baseDir, model.checkpoint);
  const config = readConfigJson(localPath);
  if (typeof model.adapter === 'string')
    gaps.push({
      field: 'model.adapter',
      why: 'training does not start from a trained adapter; merge it first (mmft merge) and hand off the merged model',
    });
  const q = obj(model.quantization);
  if (q) {
    if (num(q.block_size, 64) !== 64)
      gaps.push({ field: 'model.quantization.block_size', why: 'bitsandbytes through transformers always quantises in blocks of 64' });
    if (q.skip_modules !== undefined)
      gaps.push({ field: 'model.quantization.skip_modules', why: 'engines keep their own list of unquantised modules (lm_head)' });
  }

  const objective = obj(recipe.objective) ?? {};
  const template = typeof objective.template === 'string' && objective.template !== 'auto' ? objective.template : autoTemplate(localPath);
  if (objective.few_shot !== undefined)
    gaps.push({ field: 'objective.few_shot', why: 'in-context demos are drawn per step by mmft; the rows are written without them' });
  for (const key of ['hard_negatives', 'head', 'max_text_length'] as const) {
    if (objective[key] !== undefined) gaps.push({ field: `objective.${key}`, why: 'a contrastive setting; chat fine-tuning has none' });
  }

  const train = obj(recipe.train) ?? {};
  const peftSection = obj(recipe.peft);
  const resolved = resolveFreeze(train, peftSection, gaps);
  // A model without a vision_config (a text-only LM) has no vision tower or projector to train.
  const bridge = obj(config.vision_config) !== undefined;
  const freeze = bridge ? resolved : { ...resolved, vision: true, projector: true };
  let peft: HandoffPlan['peft'];
  if (peftSection) {
    const method = String(peftSection.method);
    if (method !== 'lora') gaps.push({ field: 'peft.method', why: `${method} is not LoRA; the engines' adapters here are LoRA` });
    if (peftSection.bias !== undefined && peftSection.bias !== 'none')
      gaps.push({ field: 'peft.bias', why: 'engines train LoRA with bias "none"' });
    if (peftSection.init_lora_weights !== undefined && peftSection.init_lora_weights !== true) {
      gaps.push({ field: 'peft.init_lora_weights', why: 'engines initialise LoRA as PEFT does by default (Kaiming A, zero B)' });
    }
    peft = {
      method,
      r: num(peftSection.r, 8),
      alpha: num(peftSection.lora_alpha, num(peftSection.r, 8)),
      dropout: num(peftSection.lora_dropout, 0),
      targetModules: typeof peftSection.target_modules === 'string' ? peftSection.target_modules : strings(peftSection.target_modules),
      ...(peftSection.exclude_modules != null
        ? {
            excludeModules:
              typeof peftSection.exclude_modules === 'string' ? peftSection.exclude_modules : strings(peftSection.exclude_modules),
          }
        : {}),
      modulesToSave: strings(peftSection.modules_to_save),
      useRslora: peftSection.use_rslora === true,
    };
  }

  const lrGroups: { params: string; lr: number }[] = [];
  (Array.isArray(train.lr_groups) ? train.lr_groups : []).forEach((g, i) => {
    const group = obj(g) ?? {};
    for (const params of strings(group.params)) {
      const part = partOf(params);
      if (part) lrGroups.push({ params: part, lr: num(group.lr, 0) });
      else
        gaps.push({
          field: `train.lr_groups.${i}`,
          why: `"${params}" is a parameter glob, not a part (vision, projector, language); engines set rates per part only`,
        });
    }
  });
  const checkpointing = train.gradient_checkpointing;
  const everyN = num(obj(checkpointing)?.every_n_blocks, 1);
  if (everyN > 1) gaps.push({ field: 'train.gradient_checkpointing.every_n_blocks', why: 'engines checkpoint every block' });
  if (train.early_stopping_patience !== undefined)
    gaps.push({ field: 'train.early_stopping_patience', why: 'no early stopping in the engines’ training configs' });
  if (typeof train.metric_for_best === 'string' && train.metric_for_best !== 'eval_loss') {
    gaps.push({
      field: 'train.metric_for_best',
      why: `${train.metric_for_best} is an mmft metric; engines compute the eval loss only (evaluate the result with mmft eval after mmft import)`,
    });
  }
  if (strings(train.no_decay).length > 0)
    gaps.push({ field: 'train.no_decay', why: 'engines exclude biases and norms from weight decay by their own rule' });
  if (train.dataloader_drop_last === true)
    gaps.push({ field: 'train.dataloader_drop_last', why: 'not written; engines keep the last incomplete batch' });
  if (train.eval_before !== false && obj(obj(recipe.data)?.eval) !== undefined) {
    gaps.push({
      field: 'train.eval_before',
      why: 'engines do not evaluate before the first step; run mmft eval recipe on the base model for the "before" numbers',
    });
  }
  if (train.frozen_dtype !== undefined && train.frozen_dtype !== 'f32')
    gaps.push({ field: 'train.frozen_dtype', why: 'engines store frozen weights in the run precision (--precision)' });

  (Array.isArray(recipe.metrics) ? recipe.metrics : []).forEach((m, i) => {
    const id = String(obj(m)?.type ?? m);
    gaps.push({
      field: `metrics.${i}`,
      why: `metric ${id} is computed by mmft; evaluate the imported result with mmft eval recipe (engines report eval loss)`,
    });
  });
  const data = obj(recipe.data) ?? {};
  for (const split of ['train', 'eval'] as const) {
    const section = obj(data[split]);
    if (section?.type === 'mix' && section.strategy !== undefined && section.strategy !== 'concat') {
      gaps.push({
        field: `data.${split}.strategy`,
        why: `mix strategy ${String(section.strategy)}: the rows are written in the order of one mixed pass; engines shuffle them and do not re-draw the mix each epoch`,
      });
    }
    if (section && Object.keys(section).some((k) => k.startsWith('augment')))
      gaps.push({
        field: `data.${split}.augment`,
        why: 'image augmentation is drawn per step by mmft; the images are written as they are',
      });
  }

  const maxSteps = typeof train.max_steps === 'number' ? train.max_steps : undefined;
  const betas = Array.isArray(train.betas) ? (train.betas as number[]) : [0.9, 0.999];
  return {
    recipeFile: path.resolve(recipeFile),
    name: typeof recipe.name === 'string' ? recipe.name : path.basename(recipeFile).replace(/\.(ya?ml|json)$/, ''),
    seed: num(train.seed, num(recipe.seed, 42)),
    model: {
      path: options.modelPath ?? localPath,
      localPath,
      modelType: String(config.model_type ?? ''),
      ...(Array.isArray(config.architectures) && typeof config.architectures[0] === 'string'
        ? { architecture: config.architectures[0] }
        : {}),
      ...(q
        ? {
            quantization: {
              bits: 4 as const,
              quantType: q.quant_type === 'fp4' ? ('fp4' as const) : ('nf4' as const),
              doubleQuant: q.double_quant !== false,
            },
          }
        : {}),
    },
    template,
    ...(typeof objective.default_system === 'string' ? { defaultSystem: objective.default_system } : {}),
    maxLength: num(objective.max_length, 512),
    trainOnPrompt: objective.train_on_prompt === true,
    freeze,
    ...(peft ? { peft } : {}),
    train: {
      lr: num(train.lr, 5e-5),
      lrGroups,
      weightDecay: num(train.weight_decay, 0.01),
      betas: [num(betas[0], 0.9), num(betas[1], 0.999)],
      eps: num(train.eps, 1e-8),
      warmupSteps: num(train.warmup_steps, 0),
      schedule: typeof train.schedule === 'string' ? train.schedule : 'linear',
      ...(maxSteps !== undefined ? { maxSteps } : { epochs: num(train.epochs, 3) }),
      batchSize: num(train.batch_size, 8),
      gradAccum: num(train.grad_accum_steps, 1),
      maxGradNorm: num(train.max_grad_norm, 1),
      gradientCheckpointing: checkpointing === true || obj(checkpointing) !== undefined,
      ...(typeof train.save_every === 'number' ? { saveEvery: train.save_every } : {}),
      ...(typeof train.eval_every === 'number' ? { evalEvery: train.eval_every } : {}),
      logEvery: num(train.log_every, 10),
    },
    gaps,
  };
}
