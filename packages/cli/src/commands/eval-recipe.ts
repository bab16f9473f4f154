// `mmft eval recipe`: a recipe's model on its data.eval, either through the trainer's eval-only
// pass or, with --slice-by/--perturb, through its objective per slice and perturbation, or with
// --shots, through its objective once per number of in-context examples. The
// prediction-file subcommands are in ./eval.ts, which registers this one.
import * as fs from 'node:fs';
import * as path from 'node:path';
import { Command, InvalidArgumentError, Option } from 'commander';
import { MmftError, readRecipe, recipePluginRequests, validateRecipe, writeFileAtomic } from '@mmft/core';
import type { CliContext } from '../context';
import { loadProbedModel, readExamples, type ProbeCliOptions } from './probe';
import { createRecipeObjective, sectionOf, selectRecipeBackend, withoutType } from '../probe/recipe-parts';
import { collect, runRecipe } from './train';
import { checkJsonTarget, writeJson } from './eval-json';
import { parsePerturbations } from '../eval/perturb';
import { runRobustness } from '../eval/robustness';
import { robustnessHtml, robustnessLines } from '../eval/robustness-report';
import { shapesDerivedFields } from '../eval/slices';
import { parseShots, runShotsSweep, withShots, type ShotsDocument } from '../eval/shots';
import { shotsHtml, shotsLines } from '../eval/shots-report';
import { runRecipeJson } from '../queue/eval-run';

/** Options of `mmft eval recipe`. */
export interface EvalRecipeOptions {
  set: string[];
  plugin?: string[];
  output?: string;
  out?: string;
  adapter?: string;
  model?: string;
  force?: boolean;
  sliceBy?: string;
  perturb?: string;
  json?: string;
  seed?: number;
  n?: number;
  batchSize?: number;
  shots?: number[];
  queue?: string;
  shardSize?: number;
}

/** What both recipe evaluations through the objective start from: the validated recipe, the output folder, data.eval's examples and the model. */
export async function prepareRecipeEval(ctx: CliContext, recipeFile: string, o: EvalRecipeOptions, flags: string) {
  const raw = readRecipe(path.resolve(ctx.cwd, recipeFile), o.set, { cwd: ctx.cwd });
  const fromFlag = (o.plugin ?? []).map((specifier) => ({ specifier, origin: '--plugin', baseDir: ctx.cwd }));
  const registry = await ctx.createRegistry([...recipePluginRequests(raw), ...fromFlag], raw.baseDir);
  const recipe = validateRecipe(raw, registry).value as Record<string, unknown>;
  await selectRecipeBackend(registry, recipe);
  const defaultOutput = `${typeof recipe.output_dir === 'string' ? recipe.output_dir : path.join('runs', raw.file.replace(/^.*[\\/]|\.(ya?ml|json)$/g, ''))}-eval`;
  const outDir = o.out ?? o.output;
  const outputDir = outDir ? path.resolve(ctx.cwd, outDir) : path.resolve(raw.baseDir, defaultOutput);
  if (o.json) checkJsonTarget(ctx, o.json, { recipe: recipeFile });
  const probeOptions: ProbeCliOptions = { set: o.set, model: o.model, adapter: o.adapter, split: 'eval', n: o.n ?? Infinity, seed: 0 };
  if (!o.model && typeof sectionOf(recipe.model)?.checkpoint !== 'string') {
    throw new MmftError('E_RECIPE', `${raw.file}: model.checkpoint is not set, and ${flags} evaluate a saved model`, {
      hint: 'give --model <checkpoint folder> (e.g. runs/x/checkpoint-best/model) or set model.checkpoint in the recipe',
    });
  }
  return { raw, registry, recipe, outputDir, probeOptions };
}

/** Writes eval.json and report.html into `outputDir`, then --json. */
async function writeEvalFiles(ctx: CliContext, outputDir: string, doc: unknown, html: string, json: string | undefined): Promise<void> {
  fs.mkdirSync(outputDir, { recursive: true });
  const encode = (s: string) => [new TextEncoder().encode(s)];
  await writeFileAtomic(path.join(outputDir, 'eval.json'), encode(`${JSON.stringify(doc, null, 2)}\n`));
  await writeFileAtomic(path.join(outputDir, 'report.html'), encode(html));
  ctx.print(`wrote ${path.join(outputDir, 'eval.json')} and report.html`);
  await writeJson(ctx, json, doc);
}

/**
 * `mmft eval recipe --slice-by/--perturb`: the recipe's saved model on data.eval through its own
 * objective (as `mmft probe` runs it), every metric overall, per slice and under each
 * perturbation; prints the tables and writes eval.json and report.html (docs/metrics.md, "Slices
 * and robustness"). Exported for tests.
 */
export async function runSlicedEval(ctx: CliContext, recipeFile: string, o: EvalRecipeOptions): Promise<void> {
  const sliceBy = (o.sliceBy ?? '')
    .split(',')
    .map((s) => s.trim())
    .filter(Boolean);
  const perturbations = o.perturb === undefined ? [] : parsePerturbations(o.perturb);
  const { raw, registry, recipe, outputDir, probeOptions } = await prepareRecipeEval(ctx, recipeFile, o, '--slice-by/--perturb');
  const examples = await readExamples(registry, recipe, raw.baseDir, probeOptions, raw.file);
  const evalSection = sectionOf(sectionOf(recipe.data)?.eval);
  const derived = evalSection?.type === 'shapes' ? shapesDerivedFields(withoutType(evalSection)[1]) : undefined;
  const model = await loadProbedModel(registry, recipe, raw.baseDir, ctx, probeOptions, raw.file);
  try {
    const { objective, metrics, batchSize } = await createRecipeObjective(registry, recipe, model, outputDir, o.batchSize);
    try {
      const result = await runRobustness({
        objective,
        metrics,
        examples,
        batchSize,
        sliceBy,
        perturbations,
        seed: o.seed ?? 0,
        derived,
        source: `data.eval of ${raw.file}`,
        onPass: (name) => ctx.print(`evaluating ${examples.length} examples: ${name}`),
      });
      robustnessLines(result).forEach((line) => ctx.print(line));
      const doc = { recipe: raw.file, modelType: model.modelType, ...result };
      const title = `mmft eval: ${path.basename(raw.file)} (${model.modelType})`;
      await writeEvalFiles(ctx, outputDir, doc, robustnessHtml(title, result), o.json);
    } finally {
      objective.dispose();
    }
  } finally {
    model.dispose();
  }
}

/**
 * `mmft eval recipe --shots 0,2,4`: the recipe's saved model on data.eval once per number of
 * in-context examples, the causal-lm objective built with objective.few_shot.shots = k for each
 * (docs/metrics.md, "Few-shot sweeps"); prints metric × shots and writes eval.json and report.html.
 * Exported for tests.
 */
export async function runShotsEval(ctx: CliContext, recipeFile: string, o: EvalRecipeOptions): Promise<void> {
  const shots = o.shots!;
  const { raw, registry, recipe, outputDir, probeOptions } = await prepareRecipeEval(ctx, recipeFile, o, '--shots');
  withShots(recipe, 0, raw.file); // an explicit non-causal-lm objective fails before the model loads
  const examples = await readExamples(registry, recipe, raw.baseDir, probeOptions, raw.file);
  const model = await loadProbedModel(registry, recipe, raw.baseDir, ctx, probeOptions, raw.file);
  try {
    const entries = await runShotsSweep({
      shots,
      createObjective: (k) => createRecipeObjective(registry, withShots(recipe, k, raw.file, model), model, outputDir, o.batchSize),
      examples,
      source: `data.eval of ${raw.file}`,
      onPass: (k) => ctx.print(`evaluating ${examples.length} examples at ${k} shots`),
    });
    const doc: ShotsDocument = { recipe: raw.file, modelType: model.modelType, examples: examples.length, shots: entries };
    shotsLines(doc).forEach((line) => ctx.print(line));
    const title = `mmft eval: ${path.basename(raw.file)} (${model.modelType}) at ${shots.join(', ')} shots`;
    await writeEvalFiles(ctx, outputDir, doc, shotsHtml(title, doc), o.json);
  } finally {
    model.dispose();
  }
}

const wholeNumber = (flag: string, min: number) => (value: string) => {
  const n = Number(value);
  if (!Number.isInteger(n) || n < min) throw new InvalidArgumentError(`${flag} takes a whole number ≥ ${min}, got "${value}"`);
  return n;
};

/** Adds `recipe` to the `eval` command `cmd` (made with .command(), so it inherits its error and output settings). */
export function addEvalRecipeCommand(cmd: Command, ctx: CliContext): void {
  cmd
    .command('recipe')
    .description("score a recipe's model (checkpoint, + PEFT adapter) on its data.eval with its metrics, without training")
    .argument('<recipe>', 'recipe file (YAML or JSON)')
    .option(
      '--set <path=value>',
      'override a recipe value, e.g. --set model.checkpoint=runs/x/checkpoint-best/model (repeatable)',
      collect,
      [],
    )
    .option('--plugin <specifier...>', 'load extra plugin packages')
    .option(
      '--adapter <dir>',
      'load this trained PEFT adapter folder (adapter_config.json + adapter_model.safetensors) on the model; same as model.adapter in the recipe',
    )
    .option('--output <dir>', 'output folder (default: the recipe output_dir + "-eval")')
    .addOption(new Option('--out <dir>', 'same as --output').hideHelp())
    .option('--force', 'write into an output folder that holds something other than an earlier evaluation')
    .option(
      '--slice-by <fields>',
      'score every metric per value of these record fields, comma-separated (lang, answer_type, a dotted path into the JSONL record such as meta.domain; shapes data: domain, colors, shapes, objects)',
    )
    .option('--perturb <list>', 'also score under perturbations: blur[:sigma], noise[:std], crop[:fraction], paraphrase (comma-separated)')
    .option(
      '--shots <list>',
      'few-shot sweep: evaluate once per number of in-context examples, e.g. 0,2,4 (sets objective.few_shot.shots; causal-lm only)',
      parseShots,
    )
    .option(
      '--json <out>',
      'write the scores as JSON: eval_loss, perplexity and one object per metric (scores, per_item, groups) as mmft eval caption writes them; with --slice-by/--perturb/--shots: eval.json',
    )
    .option(
      '--queue <url>',
      'spread the evaluation over `mmft worker` processes through this Redis job queue (redis://HOST:PORT); the scores equal the single-process --json',
    )
    .option(
      '--shard-size <n>',
      'with --queue: examples per job, a multiple of the batch size (default: 8 batches)',
      wholeNumber('--shard-size', 1),
    )
    .option('--model <dir>', 'with --json/--queue/--slice-by/--perturb/--shots: saved model folder to evaluate instead of model.checkpoint')
    .option('--seed <n>', 'with --perturb: seed of the noise', wholeNumber('--seed', 0))
    .option('--n <count>', 'with --slice-by/--perturb/--shots: evaluate the first n examples of data.eval', wholeNumber('--n', 1))
    .option(
      '--batch-size <n>',
      'with --json/--queue/--slice-by/--perturb/--shots: examples per batch (default: train.eval_batch_size)',
      wholeNumber('--batch-size', 1),
    )
    .action((file: string, o: EvalRecipeOptions) => {
      const flag = (k: string) => `--${k.replace(/[A-Z]/g, (c) => `-${c.toLowerCase()}`)}`;
      if (o.queue !== undefined) {
        // Slices, perturbations and shot sweeps need every example's inputs in one place; the queue merges scores only.
        const clash = (['sliceBy', 'perturb', 'shots', 'seed', 'n'] as const).filter((k) => o[k] !== undefined);
        if (clash.length > 0) {
          throw new MmftError('E_INPUT', `mmft eval recipe: --queue does not combine with ${clash.map(flag).join(', ')}`, {
            hint: 'run the queued evaluation for the scores, and --slice-by/--perturb/--shots in one process',
          });
        }
      } else if (o.shardSize !== undefined) {
        throw new MmftError('E_INPUT', 'mmft eval recipe: --shard-size only applies with --queue', {
          hint: 'add --queue redis://HOST:PORT, or drop --shard-size',
        });
      }
      if (o.shots !== undefined) {
        // A sweep reports overall scores per k; slicing each k would multiply the tables for little use.
        const clash = (['sliceBy', 'perturb', 'seed'] as const).filter((k) => o[k] !== undefined);
        if (clash.length > 0) {
          throw new MmftError('E_INPUT', `mmft eval recipe: --shots does not combine with ${clash.map(flag).join(', ')}`, {
            hint: 'run the few-shot sweep and the sliced evaluation separately; the draws of the demos are seeded by objective.few_shot.seed (--set objective.few_shot.seed=N)',
          });
        }
        return runShotsEval(ctx, file, o);
      }
      // Slices and perturbations need each record's own metric inputs, so they run the objective
      // directly (as mmft probe does) instead of the trainer's eval-only pass.
      if (o.sliceBy !== undefined || o.perturb !== undefined) return runSlicedEval(ctx, file, o);
      if (o.json !== undefined || o.queue !== undefined) {
        const odd = (['seed', 'n'] as const).filter((k) => o[k] !== undefined);
        if (odd.length > 0) {
          throw new MmftError('E_INPUT', `mmft eval recipe: ${odd.map(flag).join(', ')} only apply with --slice-by, --perturb or --shots`, {
            hint: '--json and --queue score the whole of data.eval (set data.eval.n to evaluate fewer examples)',
          });
        }
        // The objective's own pass, shard by shard (one shard without --queue), merged as the trainer merges its eval.
        return runRecipeJson(ctx, file, o);
      }
      const only = (['model', 'seed', 'n', 'batchSize', 'out'] as const).filter((k) => o[k] !== undefined);
      if (only.length > 0) {
        throw new MmftError(
          'E_INPUT',
          `mmft eval recipe: ${only.map(flag).join(', ')} only apply with --json, --queue, --slice-by or --perturb`,
          {
            hint: 'add --json OUT, --slice-by FIELD, --perturb LIST or --shots LIST, or drop the flag (the plain evaluation writes to --output)',
          },
        );
      }
      // Quoted: the value is YAML, and a path may hold characters YAML reads otherwise.
      const adapter = o.adapter === undefined ? [] : [`model.adapter=${JSON.stringify(path.resolve(ctx.cwd, o.adapter))}`];
      return runRecipe(ctx, file, { ...o, set: [...o.set, ...adapter, 'train.eval_only=true'], outputSuffix: '-eval' });
    });
}
