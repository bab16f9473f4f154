// A validated recipe as the neutral plan every handoff target translates (contracts/handoff.ts):
// the model read from its config.json only (no weights), which parts train, the LoRA / QLoRA
// settings and the optimisation, each in mmft's meaning. Whatever the plan cannot carry is a gap,
// so the bundle README lists it instead of dropping it. Part names follow the module names
// transformers gives LLaVA (vision_tower, multi_modal_projector, language_model), which
// LLaMA-Factory's COMPOSITE_MODELS keys also use (hiyouga/LLaMA-Factory@ff6d4d1:src/llamafactory/model/model_utils/visual.py).
import * as fs from 'node:fs';
import * as path from 'node:path';
import type { HandoffGap, HandoffPlan } from '../contracts/handoff';
import { MmftError } from '../errors';

type Obj = Record<string, unknown>;
const obj = (v: unknown): Obj | undefined => (v !== null && typeof v === 'object' && !Array.isArray(v) ? (v as Obj) : undefined);
const num = (v: unknown, fallback: number): number => (typeof v === 'number' ? v : fallback);
const strings = (v: unknown): string[] =>
  typeof v === 'string' ? [v] : Array.isArray(v) ? v.filter((s): s is string => typeof s === 'string') : [];

export type ModelPart = 'vision' | 'projector' | 'language';
const PARTS: readonly ModelPart[] = ['vision', 'projector', 'language'];

/** A module name of each part as PEFT sees a LLaVA model (legacy transformers layout, as mmft names parameters). */
const SAMPLE_MODULE: Readonly<Record<ModelPart, string>> = {
  vision: 'vision_tower.vision_model.encoder.layers.0.self_attn.q_proj',
  projector: 'multi_modal_projector.linear_1',
  language: 'language_model.model.layers.0.self_attn.q_proj',
};

/** Tower names a recipe may use for each part (the towers the bridges declare, plus CLIP-style aliases). */
const PART_NAMES: Readonly<Record<ModelPart, readonly string[]>> = {
  vision: ['vision', 'vision_tower', 'vision_model'],
  projector: ['projector', 'multi_modal_projector', 'mm_projector'],
  language: ['language', 'language_model', 'text', 'llm'],
};

/** Options of `handoffPlan`. */
export interface HandoffPlanOptions {
  /** How the target machines find the base model (a hub id or their path); default the checkpoint folder. */
  readonly modelPath?: string;
}

/** The part a freeze entry (tower name or parameter glob) covers whole, if any. */
function partOf(entry: string): ModelPart | undefined {
  for (const part of PARTS) {
    if (PART_NAMES[part].includes(entry)) return part;
    const prefix = SAMPLE_MODULE[part].split('.')[0]!;
    if (entry === `${prefix}.**` || entry === `${prefix}**` || entry === `${prefix}.*`) return part;
  }
  return undefined;
}

/** PEFT's module matching (tuners_utils.py check_target_module_exists): a string is a full regex match, a list matches a name or a `.name` suffix. */
function peftMatches(spec: string | readonly string[] | undefined, module: string): boolean {
  if (spec === undefined) return false;
  if (typeof spec === 'string') {
    if (spec === 'all-linear') return true;
    try {
      return new RegExp(`^(?:${spec})$`).test(module);
    } catch {
      return false;
    }
  }
  return spec.some((name) => module === name || module.endsWith(`.${name}`));
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

/** Which parts train, and gaps for freeze entries that cover only part of a tower. */
function resolveFreeze(train: Obj, peft: Obj | undefined, gaps: HandoffGap[]): HandoffPlan['freeze'] {
  const frozen = new Set<ModelPart>();
  if (train.strategy === 'lock-image') frozen.add('vision');
  if (train.strategy === 'feature-based') {
    throw new MmftError(
      'E_UNSUPPORTED',
      'train.strategy feature-based (cached features and a head) has no equivalent in chat fine-tuning engines',
      {
        hint: 'hand off a recipe with train.strategy full or lock-image',
      },
    );
  }
  for (const [key, add] of [
    ['freeze', true],
    ['unfreeze', false],
  ] as const) {
    strings(train[key]).forEach((entry, i) => {
      const part = partOf(entry);
      if (!part)
        gaps.push({
          field: `train.${key}.${i}`,
          why: `"${entry}" is not a whole part (vision, projector, language); engines freeze whole parts only`,
        });
      else if (add) frozen.add(part);
      else frozen.delete(part);
    });
  }
  if (!peft) return { vision: frozen.has('vision'), projector: frozen.has('projector'), language: frozen.has('language') };
  // With an adapter a part trains when LoRA reaches one of its Linear layers or it is saved whole.
  const target = typeof peft.target_modules === 'string' ? peft.target_modules : strings(peft.target_modules);
  const exclude =
    peft.exclude_modules === undefined || peft.exclude_modules === null
      ? undefined
      : typeof peft.exclude_modules === 'string'
        ? peft.exclude_modules
        : strings(peft.exclude_modules);
  const saved = strings(peft.modules_to_save);
  const trains = (part: ModelPart): boolean => {
    if (frozen.has(part)) return false;
    const module = SAMPLE_MODULE[part];
    if (saved.some((name) => module.split('.').includes(name) || PART_NAMES[part].includes(name))) return true;
    return peftMatches(target, module) && !peftMatches(exclude, module);
  };
  return { vision: !trains('vision'), projector: !trains('projector'), language: !trains('language') };
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
