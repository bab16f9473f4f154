// `mmft train <recipe>`: reads and validates the recipe against the plugins it names, then hands
// the run to the trainer plugin its `train.type` selects.
import * as path from 'node:path';
import { Command, CommanderError } from 'commander';
import { MmftError, readRecipe, recipePluginRequests, validateRecipe, type RunReporter } from '@mmft/core';
import { TtyReporter } from '@mmft/trainer-standard';
import type { CliContext } from '../context';
import { prepareRunFolder, resumeCheckpoint } from '../run-folder';

export function collect(value: string, previous: string[]): string[] {
  return [...previous, value];
}

/** Plain-line reporter; trainers with a TTY bar bring their own via the progress library. */
function lineReporter(ctx: CliContext): RunReporter {
  return {
    info: (message) => ctx.print(message),
    warn: (message) => void ctx.stderr.write(`warning: ${message}\n`),
    progress: ({ step, total, samples, values }) =>
      ctx.print(
        `step ${step}/${total} samples ${samples} ${Object.entries(values)
          .map(([k, v]) => `${k}=${v.toPrecision(5)}`)
          .join(' ')}`,
      ),
  };
}

/** Options of one recipe run (train, or eval-only through `mmft eval recipe`). */
export interface RecipeRunOptions {
  readonly set: readonly string[];
  readonly plugin?: readonly string[];
  readonly output?: string;
  readonly resume?: string;
  /** Replace an earlier run in the output folder (see run-folder.ts). */
  readonly force?: boolean;
  /** Appended to the default output folder name ("-eval" keeps an eval away from the training run's files). */
  readonly outputSuffix?: string;
  /** Use data files that changed since their manifest, recording the change in provenance.json. */
  readonly acceptDataChange?: boolean;
  /** `--sanity [N]`: overfit N batches (see sanityRecipe). */
  readonly sanity?: number;
}

/** Steps of a sanity run unless the recipe asks for fewer. */
export const SANITY_MAX_STEPS = 100;

/**
 * The recipe of `mmft train --sanity N`: train.overfit_batches N, evaluation off (no data.eval, no
 * metrics, nothing that picks a best checkpoint), only the final checkpoint, and max_steps the
 * recipe's when it is lower, else SANITY_MAX_STEPS. Everything else stays the recipe's.
 *
 * @example
 * sanityRecipe(recipe, 2).train; // { ...recipe.train, overfit_batches: 2, max_steps: 100 }
 */
export function sanityRecipe(value: Readonly<Record<string, unknown>>, batches: number): Record<string, unknown> {
  const sectionOf = (v: unknown) => (typeof v === 'object' && v !== null && !Array.isArray(v) ? (v as Record<string, unknown>) : {});
  const { eval: _eval, ...data } = sectionOf(value.data);
  const {
    eval_every: _every,
    save_every: _save,
    metric_for_best: _best,
    greater_is_better: _greater,
    early_stopping_patience: _patience,
    eval_only: _only,
    ...train
  } = sectionOf(value.train);
  const max = typeof train.max_steps === 'number' && train.max_steps < SANITY_MAX_STEPS ? train.max_steps : SANITY_MAX_STEPS;
  return { ...value, data, metrics: [], train: { ...train, overfit_batches: batches, max_steps: max } };
}

/** `--sanity [N]`'s value: N, or 2 when the flag has none. */
function sanityBatches(value: string | true | undefined): number | undefined {
  if (value === undefined) return undefined;
  if (value === true) return 2;
  const n = Number(value);
  if (!Number.isInteger(n) || n < 1) {
    throw new MmftError('E_INPUT', `--sanity ${value}: expected a whole number of batches, 1 or more`, {
      hint: 'e.g. mmft train recipe.yaml --sanity 2 (the default when no number is given)',
    });
  }
  return n;
}

/** Read, validate and hand a recipe to its trainer; shared by `mmft train` and `mmft eval recipe`. */
export async function runRecipe(ctx: CliContext, recipeFile: string, options: RecipeRunOptions): Promise<void> {
  const read = readRecipe(path.resolve(ctx.cwd, recipeFile), options.set, { cwd: ctx.cwd });
  const raw = options.sanity === undefined ? read : { ...read, value: sanityRecipe(read.value, options.sanity) };
  const fromFlag = (options.plugin ?? []).map((specifier) => ({ specifier, origin: '--plugin', baseDir: ctx.cwd }));
  const registry = await ctx.createRegistry([...recipePluginRequests(raw), ...fromFlag], raw.baseDir);
  const recipe = validateRecipe(raw, registry);
  const train = recipe.value.train as { type: string } | undefined;
  if (!train) {
    throw new MmftError('E_RECIPE', `recipe ${raw.file} has no train: section`, {
      hint: `add train: { type: <trainer> }; trainers available: ${
        registry
          .list('trainer')
          .map((t) => t.id)
          .join(', ') || '(none loaded)'
      }`,
    });
  }
  const trainer = registry.resolve('trainer', train.type);
  const { type: _type, ...settings } = train;
  const defaultOutput =
    (typeof raw.value.output_dir === 'string'
      ? raw.value.output_dir
      : path.join('runs', path.basename(raw.file).replace(/\.(ya?ml|json)$/, ''))) + (options.outputSuffix ?? '');
  const outputDir = options.output ? path.resolve(ctx.cwd, options.output) : path.resolve(raw.baseDir, defaultOutput);
  const resumeFrom = options.resume ? await resumeCheckpoint(ctx, path.resolve(ctx.cwd, options.resume)) : undefined;
  await prepareRunFolder(ctx, outputDir, { force: options.force, resume: resumeFrom, recipe: recipe.value, baseDir: raw.baseDir });
  const run = (signal?: AbortSignal) =>
    trainer.run(settings, {
      recipe: recipe.value,
      baseDir: raw.baseDir,
      outputDir,
      resolver: registry,
      reporter: ctx.isTTY ? new TtyReporter(process.stderr) : lineReporter(ctx),
      resumeFrom,
      signal,
      force: options.force,
      recipeFile: raw.file,
      acceptDataChange: options.acceptDataChange,
    });
  // An evaluation has no step to finish or checkpoint to write: Ctrl-C keeps its default there.
  if ((train as { eval_only?: unknown }).eval_only === true) {
    const summary = await run();
    ctx.print(`done: ${summary.steps} steps, output in ${summary.outputDir}`);
    return;
  }
  const { value: summary, interrupted } = await ctx.interruptible(
    run,
    'finishing the current step, then writing checkpoint-last and report.html',
  );
  if (interrupted) {
    const last = path.join(outputDir, 'checkpoint-last');
    ctx.stderr.write(
      `stopped by ${interrupted.signal} at step ${summary.steps}: ${last} and report.html are written; continue with: mmft train ${recipeFile} --resume ${last}${options.set.length > 0 ? ' (and the same --set options)' : ''}\n`,
    );
    // commander's error type carries an exit code through runCli without a second message.
    throw new CommanderError(interrupted.exitCode, 'mmft.interrupted', `stopped by ${interrupted.signal}`);
  }
  ctx.print(`done: ${summary.steps} steps, output in ${summary.outputDir}`);
}

export function trainCommand(ctx: CliContext): Command {
  return new Command('train')
    .description('fine-tune as a recipe file describes')
    .argument('<recipe>', 'recipe file (YAML or JSON)')
    .option('--set <path=value>', 'override a recipe value, e.g. --set train.lr=2e-4 (repeatable)', collect, [])
    .option('--plugin <specifier...>', 'load extra plugin packages')
    .option('--output <dir>', 'output folder (default: recipe output_dir or runs/<recipe name>)')
    .option('--resume <checkpoint>', 'resume from a checkpoint folder')
    .option(
      '--force',
      'replace an earlier run in the output folder (its checkpoints, metrics and report); with --resume, accept a changed train.batch_size',
    )
    .option(
      '--sanity [batches]',
      `sanity run: train over and over on the first N batches (default 2; train.overfit_batches) and report whether the loss falls ` +
        `towards zero; evaluation off, only the final checkpoint, max_steps the recipe's if lower, else ${SANITY_MAX_STEPS}; ` +
        'output <output_dir>-sanity unless --output is given',
    )
    .option(
      '--accept-data-change',
      'train on data files that changed since their manifest (<file>.manifest.json), recording the change in provenance.json',
    )
    .action(
      (
        recipeFile: string,
        options: {
          set: string[];
          plugin?: string[];
          output?: string;
          resume?: string;
          force?: boolean;
          acceptDataChange?: boolean;
          sanity?: string | true;
        },
      ) => {
        const sanity = sanityBatches(options.sanity);
        return runRecipe(ctx, recipeFile, { ...options, sanity, ...(sanity === undefined ? {} : { outputSuffix: '-sanity' }) });
      },
    );
}
