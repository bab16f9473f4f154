// `mmft probe <recipe>`: does the model look at the image? The recipe names the model
// (model.checkpoint, + model.adapter), the data (data.eval, or data.train with --split train), the
// objective that encodes, scores and generates (objective: causal-lm) and the metrics; the probe
// runs the first --n examples with their true image, a blank image and another example's image
// (probe/conditions.ts) and prints agreement with the true-image answers, the metric scores and
// the change in mean log-likelihood of the reference answers, plus attention mass on image
// positions where the model can return it. Writes probe.json and probe.html to --output.
// docs/probe.md.
import * as fs from 'node:fs';
import * as path from 'node:path';
import { Command, InvalidArgumentError } from 'commander';
import {
  architectureContext,
  datasetContext,
  loadAdapter,
  MmftError,
  readRecipe,
  recipePluginRequests,
  validateRecipe,
  writeFileAtomic,
  type Example,
  type PluginRegistry,
  type VisionLanguageModel,
} from '@mmft/core';
import { readModelType } from '@mmft/core/hf';
import type { CliContext } from '../context';
import { probeHtml, probeLines } from '../probe/report';
import { createRecipeObjective, sectionOf, selectRecipeBackend, withoutType } from '../probe/recipe-parts';
import { runProbe } from '../probe/run-probe';
import { collect } from './train';

export interface ProbeCliOptions {
  set: string[];
  model?: string;
  adapter?: string;
  split: string;
  n: number;
  seed: number;
  batchSize?: number;
  output?: string;
  plugin?: string[];
}

/** The recipe's model: --model or model.checkpoint (a folder), then --adapter or model.adapter. */
export async function loadProbedModel(
  registry: PluginRegistry,
  recipe: Record<string, unknown>,
  baseDir: string,
  ctx: CliContext,
  o: ProbeCliOptions,
  file: string,
): Promise<VisionLanguageModel> {
  const spec = sectionOf(recipe.model) ?? {};
  const dir = o.model
    ? path.resolve(ctx.cwd, o.model)
    : typeof spec.checkpoint === 'string'
      ? path.resolve(baseDir, spec.checkpoint)
      : undefined;
  if (!dir) {
    throw new MmftError('E_RECIPE', `${file}: model.checkpoint is not set, and mmft probe reads a saved model`, {
      hint: 'give --model <checkpoint folder> (e.g. runs/x/checkpoint-best/model) or set model.checkpoint in the recipe',
    });
  }
  const modelType = await readModelType(dir);
  const architecture = registry.resolveModelType(modelType, {
    source: path.join(dir, 'config.json'),
    hint: 'load the plugin for this model with --plugin <package>',
  });
  const model = await architecture.fromPretrained(dir, {}, architectureContext(registry));
  const adapter = o.adapter
    ? path.resolve(ctx.cwd, o.adapter)
    : typeof spec.adapter === 'string'
      ? path.resolve(baseDir, spec.adapter)
      : undefined;
  if (adapter) {
    try {
      await loadAdapter(adapter, model.root, registry.list('peft'), { renameKey: model.checkpointKeyName?.bind(model) });
    } catch (error) {
      model.dispose();
      throw error;
    }
  }
  return model;
}

/** The first `n` examples of the split, in order. */
export async function readExamples(
  registry: PluginRegistry,
  recipe: Record<string, unknown>,
  baseDir: string,
  o: ProbeCliOptions,
  file: string,
) {
  const section = sectionOf(sectionOf(recipe.data)?.[o.split]);
  if (!section) {
    throw new MmftError('E_RECIPE', `${file}: the recipe has no data.${o.split} section to probe with`, {
      hint: `add data: { ${o.split}: { type: shapes, task: caption, n: 50 } }, or pick the split with --split train|eval`,
    });
  }
  const [type, settings] = withoutType(section);
  const dataset = await registry.resolve('dataset', type).open(settings, datasetContext(registry, baseDir, `data.${o.split}`));
  const examples: Example[] = [];
  for await (const example of dataset.iterate({ shuffle: false })) {
    examples.push(example);
    if (examples.length >= o.n) break;
  }
  return examples;
}

/** Runs the command; exported for tests. */
export async function runProbeCommand(ctx: CliContext, recipeFile: string, o: ProbeCliOptions): Promise<void> {
  const raw = readRecipe(path.resolve(ctx.cwd, recipeFile), o.set, { cwd: ctx.cwd });
  const fromFlag = (o.plugin ?? []).map((specifier) => ({ specifier, origin: '--plugin', baseDir: ctx.cwd }));
  const registry = await ctx.createRegistry([...recipePluginRequests(raw), ...fromFlag], raw.baseDir);
  const recipe = validateRecipe(raw, registry).value as Record<string, unknown>;
  await selectRecipeBackend(registry, recipe);
  const defaultOutput = `${typeof recipe.output_dir === 'string' ? recipe.output_dir : path.join('runs', raw.file.replace(/^.*[\\/]|\.(ya?ml|json)$/g, ''))}-probe`;
  const outputDir = o.output ? path.resolve(ctx.cwd, o.output) : path.resolve(raw.baseDir, defaultOutput);
  const examples = await readExamples(registry, recipe, raw.baseDir, o, raw.file);
  const model = await loadProbedModel(registry, recipe, raw.baseDir, ctx, o, raw.file);
  try {
    const { objective, metrics, batchSize } = await createRecipeObjective(registry, recipe, model, outputDir, o.batchSize);
    try {
      const result = await runProbe({
        model,
        objective,
        metrics,
        examples,
        batchSize,
        seed: o.seed,
        source: `data.${o.split} of ${raw.file}`,
      });
      probeLines(result).forEach((line) => ctx.print(line));
      fs.mkdirSync(outputDir, { recursive: true });
      const title = `mmft probe: ${path.basename(raw.file)} (${model.modelType})`;
      const encode = (s: string) => [new TextEncoder().encode(s)];
      await writeFileAtomic(
        path.join(outputDir, 'probe.json'),
        encode(`${JSON.stringify({ recipe: raw.file, modelType: model.modelType, ...result }, null, 2)}\n`),
      );
      await writeFileAtomic(path.join(outputDir, 'probe.html'), encode(probeHtml(title, result)));
      ctx.print(`wrote ${path.join(outputDir, 'probe.json')} and probe.html`);
    } finally {
      objective.dispose();
    }
  } finally {
    model.dispose();
  }
}

const count = (flag: string, min: number) => (value: string) => {
  const n = Number(value);
  if (!Number.isInteger(n) || n < min) throw new InvalidArgumentError(`${flag} takes a whole number ≥ ${min}, got "${value}"`);
  return n;
};

/**
 * The `probe` command.
 *
 * @example
 * program.addCommand(probeCommand(ctx)); // mmft probe recipes/blip2-shapes-eval-a.yaml --n 50
 */
export function probeCommand(ctx: CliContext): Command {
  return new Command('probe')
    .description(
      "Does the model look at the image? Answers and reference log-likelihood with the true image, a blank one and another example's",
    )
    .argument('<recipe>', 'recipe naming the model (model.checkpoint), the data, the objective and the metrics')
    .option('--model <dir>', 'checkpoint folder to probe instead of model.checkpoint')
    .option('--adapter <dir>', 'PEFT adapter folder to apply (instead of model.adapter)')
    .option('--split <name>', 'which data section to probe with: eval or train', 'eval')
    .option('--n <count>', 'examples to probe (the first n of the split)', count('--n', 1), 50)
    .option('--seed <n>', "seed of the shuffled condition's derangement", count('--seed', 0), 0)
    .option('--batch-size <n>', 'examples per batch (default: train.eval_batch_size, else train.batch_size)', count('--batch-size', 1))
    .option('--output <dir>', 'folder for probe.json and probe.html (default: the recipe output_dir + "-probe")')
    .option('--set <path=value>', 'override a recipe value, e.g. --set data.eval.n=100 (repeatable)', collect, [])
    .option('--plugin <specifier...>', 'load extra plugin packages')
    .exitOverride()
    .configureOutput({ writeOut: (t) => void ctx.stdout.write(t), writeErr: (t) => void ctx.stderr.write(t) })
    .action((recipe: string, o: ProbeCliOptions) => {
      if (o.split !== 'eval' && o.split !== 'train') throw new InvalidArgumentError(`--split takes eval or train, got "${o.split}"`);
      return runProbeCommand(ctx, recipe, o);
    });
}
