// `mmft data preview <recipe|data>` (docs/templates.md): the first rows of the training data as the
// causal-LM objective renders them, through the same encoder it trains with
// (@mmft/objective-causal-lm createEncoder), with the masked (label -100) text in ⟦…⟧ (dimmed on a
// terminal with --color), image spans as <image×N> and the token counts of each row. A recipe gives
// the model, data and objective section; a data file needs --model. Flags override the recipe's
// objective fields, so a template can be tried before a run is started.
import * as path from 'node:path';
import { Command, InvalidArgumentError, Option } from 'commander';
import {
  architectureContext,
  datasetContext,
  MmftError,
  parseConfig,
  readRecipe,
  recipePluginRequests,
  validateRecipe,
  type Example,
  type ImageTokens,
  type PluginRegistry,
  type VisionLanguageModel,
} from '@mmft/core';
import { readModelType } from '@mmft/core/hf';
import { causalLmConfigSchema, createEncoder, formatPreview, NAMED_TEMPLATES, previewExamples } from '@mmft/objective-causal-lm';
import type { CliContext } from '../context';
import { collect } from './train';

interface PreviewFlags {
  model?: string;
  template?: string;
  system?: string;
  systemLang?: 'en' | 'zh';
  maxLength?: number;
  trainOnPrompt?: boolean;
  split: 'train' | 'eval';
  n: number;
  color?: boolean;
  task?: string;
  set: string[];
  plugin: string[];
}

const positive = (flag: string) => (value: string) => {
  const n = Number(value);
  if (!Number.isInteger(n) || n < 1) throw new InvalidArgumentError(`${flag} must be a positive integer, got "${value}"`);
  return n;
};

const isRecipe = (file: string) => /\.(ya?ml)$/i.test(file);
const record = (value: unknown): Record<string, unknown> | undefined =>
  typeof value === 'object' && value !== null && !Array.isArray(value) ? (value as Record<string, unknown>) : undefined;

async function selectBackend(registry: PluginRegistry): Promise<void> {
  const backends = registry.list('backend');
  const backend = backends.find((b) => b.id === 'tfjs') ?? backends[0];
  if (backend) await backend.select(parseConfig(backend, {}));
}

/** The image span the objective writes for this model (none for language models and legacy bridges). */
function imageTokensOf(model: VisionLanguageModel): ImageTokens | undefined {
  return model.family === 'vision-to-llm' ? model.processor.imageTokens : undefined;
}

interface Source {
  readonly model: VisionLanguageModel;
  readonly examples: Example[];
  readonly objective: Record<string, unknown>;
  readonly what: string;
}

async function firstExamples(iterable: AsyncIterable<Example>, n: number): Promise<Example[]> {
  const out: Example[] = [];
  for await (const example of iterable) {
    out.push(example);
    if (out.length === n) break;
  }
  return out;
}

/**
 * The model whose tokenizer and processor render the rows: --model, else the recipe's checkpoint,
 * else the model the run would build from its section (`config:` with `tokenizer:`, or LLaVA's and
 * BLIP-2's `init:` parts, which add `<image>` to the tokenizer), as the trainer's loadModel does.
 */
async function recipeModel(
  registry: PluginRegistry,
  spec: Record<string, unknown>,
  baseDir: string,
  flagDir: string | undefined,
): Promise<VisionLanguageModel> {
  const context = architectureContext(registry);
  if (flagDir !== undefined)
    return registry
      .resolveModelType(await readModelType(flagDir), { source: path.join(flagDir, 'config.json') })
      .fromPretrained(flagDir, {}, context);
  const architecture = registry.resolve('architecture', spec.type as string);
  if (typeof spec.checkpoint === 'string') return architecture.fromPretrained(path.resolve(baseDir, spec.checkpoint), {}, context);
  const { type: _type, adapter: _adapter, ...settings } = spec;
  if (typeof settings.tokenizer === 'string') settings.tokenizer = path.resolve(baseDir, settings.tokenizer);
  return architecture.fromConfig(settings, context);
}

async function fromRecipe(ctx: CliContext, file: string, o: PreviewFlags): Promise<Source> {
  const raw = readRecipe(path.resolve(ctx.cwd, file), o.set, { cwd: ctx.cwd });
  const fromFlag = o.plugin.map((specifier) => ({ specifier, origin: '--plugin', baseDir: ctx.cwd }));
  const registry = await ctx.createRegistry([...recipePluginRequests(raw), ...fromFlag], raw.baseDir);
  const recipe = validateRecipe(raw, registry).value as Record<string, unknown>;
  const objective = record(recipe.objective) ?? { type: 'causal-lm' };
  if (objective.type !== 'causal-lm') {
    throw new MmftError('E_RECIPE', `${raw.file}: objective.type is "${String(objective.type)}"; mmft data preview shows causal-lm rows`, {
      hint: 'preview a recipe with objective: { type: causal-lm }, or give a data file with --model',
    });
  }
  const spec = record(recipe.model);
  if (!spec || typeof spec.type !== 'string') throw new MmftError('E_RECIPE', `${raw.file} has no model: section with a type`);
  await selectBackend(registry);
  const model = await recipeModel(registry, spec, raw.baseDir, o.model === undefined ? undefined : path.resolve(ctx.cwd, o.model));
  const section = record(record(recipe.data)?.[o.split]);
  if (!section) {
    model.dispose();
    throw new MmftError('E_RECIPE', `${raw.file} has no data.${o.split} section`, { hint: `add data.${o.split}, or pick --split` });
  }
  const { type, ...settings } = section;
  const dataset = await registry
    .resolve('dataset', type as string)
    .open(settings, datasetContext(registry, raw.baseDir, `data.${o.split}`));
  const examples = await firstExamples(dataset.iterate({ shuffle: false }), o.n);
  const { type: _type, ...fields } = objective;
  return { model, examples, objective: fields, what: `${path.relative(ctx.cwd, raw.file)} (data.${o.split})` };
}

async function fromData(ctx: CliContext, file: string, o: PreviewFlags): Promise<Source> {
  if (o.model === undefined) {
    throw new MmftError('E_INPUT', `${file} is a data file: say whose tokenizer renders it with --model <checkpoint folder>`, {
      hint: `mmft data preview ${file} --model models/llama-shapes-base --template llava_v1`,
    });
  }
  const registry = await ctx.createRegistry(o.plugin);
  await selectBackend(registry);
  const dir = path.resolve(ctx.cwd, o.model);
  const architecture = registry.resolveModelType(await readModelType(dir), {
    source: path.join(dir, 'config.json'),
    hint: 'load the plugin for this model with --plugin <package>',
  });
  const model = await architecture.fromPretrained(dir, {}, architectureContext(registry));
  const settings: Record<string, unknown> = { path: file, ...(o.task ? { task: o.task } : {}) };
  const dataset = await registry.resolve('dataset', 'jsonl').open(settings, datasetContext(registry, ctx.cwd));
  const examples = await firstExamples(dataset.iterate({ shuffle: false }), o.n);
  return { model, examples, objective: {}, what: file };
}

async function preview(ctx: CliContext, input: string, o: PreviewFlags): Promise<void> {
  const source = isRecipe(input) ? await fromRecipe(ctx, input, o) : await fromData(ctx, input, o);
  try {
    const overrides = {
      ...(o.template !== undefined ? { template: o.template } : {}),
      ...(o.system !== undefined ? { default_system: o.system } : {}),
      ...(o.systemLang !== undefined ? { system_lang: o.systemLang } : {}),
      ...(o.maxLength !== undefined ? { max_length: o.maxLength } : {}),
      ...(o.trainOnPrompt ? { train_on_prompt: true } : {}),
    };
    const config = causalLmConfigSchema.parse({ ...source.objective, ...overrides });
    const tokenizer = source.model.processor.tokenizer;
    if (!tokenizer) throw new MmftError('E_CHECKPOINT', `model "${source.model.modelType}" has no tokenizer (tokenizer.json)`);
    const setup = {
      config,
      tokenizer,
      tokens: imageTokensOf(source.model),
      seed: 0,
      maxLength: config.max_length,
      trainOnPrompt: config.train_on_prompt,
    };
    const previews = previewExamples(setup, source.examples);
    const template = createEncoder(setup).template;
    const resolved = template === config.template ? template : `${config.template} → ${template}`;
    ctx.print(`${source.what}: ${previews.length} rows, template ${resolved}; ⟦masked⟧ text has label -100, the rest trains`);
    for (const p of previews) formatPreview(p, { color: o.color }).forEach((line) => ctx.print(line));
    const sum = (k: 'total' | 'trained' | 'masked' | 'image') => previews.reduce((n, p) => n + p.counts[k], 0);
    ctx.print(`total: ${sum('total')} tokens (${sum('trained')} trained, ${sum('masked')} masked, ${sum('image')} image)`);
  } finally {
    source.model.dispose();
  }
}

export function dataPreviewCommand(ctx: CliContext): Command {
  return new Command('preview')
    .description('print the first rows as the causal-LM objective renders them: masked (untrained) text in ⟦…⟧, token counts')
    .argument('<input>', 'a recipe (.yaml) or a data file (then --model is needed)')
    .option('--model <dir>', 'checkpoint folder whose tokenizer and processor render the rows (default: the recipe model)')
    .addOption(new Option('--template <name>', 'objective.template to render with').choices(['auto', 'chat', 'plain', ...NAMED_TEMPLATES]))
    .option('--system <text>', "objective.default_system: the template's system prompt ('' for none)")
    .addOption(new Option('--system-lang <lang>', 'objective.system_lang: language of the default system prompt').choices(['en', 'zh']))
    .option('--max-length <n>', 'objective.max_length', positive('--max-length'))
    .option('--train-on-prompt', 'objective.train_on_prompt: prompts train too')
    .addOption(new Option('--split <split>', 'recipe split to read').choices(['train', 'eval']).default('train'))
    .option('-n <rows>', 'rows to show', positive('-n'), 3)
    .option('--color', 'dim masked text with ANSI colour instead of ⟦…⟧')
    .addOption(new Option('--task <task>', 'task format of a data file (detected when absent)'))
    .option('--set <key=value>', 'override a recipe value (repeatable)', collect, [])
    .option('--plugin <package>', 'load a plugin (repeatable)', collect, [])
    .action((input: string, o: PreviewFlags) => preview(ctx, input, o));
}
