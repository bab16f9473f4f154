// The output folder of `mmft train` / `mmft eval recipe` before the trainer touches it: an earlier
// run is replaced only with --force (or continued with --resume), as LLaMA-Factory refuses a
// non-empty output_dir without overwrite_output_dir; and a --resume checkpoint that a kill left
// half-swapped is restored from its newest complete copy (core's recoverFolder).
import * as fs from 'node:fs';
import * as path from 'node:path';
import { checkOutputFolder, listEntries, MmftError, recoverFolder, type ProtectedPath } from '@mmft/core';
import type { CliContext } from './context';

/** What the standard trainer writes at the top of its output folder. */
const RUN_FILES = ['checkpoint-last', 'checkpoint-best', 'metrics.jsonl', 'report.html', 'features'];
/** What an eval-only run writes (features/ is a fingerprinted cache, kept on purpose). */
const EVAL_FILES = ['metrics.jsonl', 'report.html', 'features'];
const STAGED = /^\.checkpoint-[\w-]+\.(tmp|old)-\d+-[0-9a-z]+$/;

function stepOf(checkpoint: string): number | undefined {
  try {
    const step = (JSON.parse(fs.readFileSync(path.join(checkpoint, 'trainer_state.json'), 'utf8')) as { globalStep?: unknown }).globalStep;
    return typeof step === 'number' ? step : undefined;
  } catch {
    return undefined;
  }
}

function describeRun(dir: string, entries: readonly string[]): string | undefined {
  if (!entries.some((e) => e.startsWith('checkpoint-') || STAGED.test(e)))
    return entries.includes('metrics.jsonl') ? 'an earlier evaluation' : undefined;
  const step = stepOf(path.join(dir, 'checkpoint-last'));
  return step === undefined ? 'an earlier run' : `an earlier run (checkpoint-last at step ${step})`;
}

/** Options of `prepareRunFolder`. */
export interface RunFolderOptions {
  readonly force?: boolean;
  readonly resume?: string;
  /** The validated recipe: its model folders are never an output; train.eval_only (`mmft eval recipe`) replaces an earlier evaluation without --force. */
  readonly recipe: Readonly<Record<string, unknown>>;
  /** Folder the recipe's paths resolve from. */
  readonly baseDir: string;
}

function section(recipe: Readonly<Record<string, unknown>>, key: string): Record<string, unknown> {
  const value = recipe[key];
  return typeof value === 'object' && value !== null ? (value as Record<string, unknown>) : {};
}

/**
 * Applies the output-folder rule to a run folder; with --force, removes the earlier run's
 * checkpoints and report so the new run does not mix with them (files mmft did not write stay).
 *
 * @example
 * await prepareRunFolder(ctx, outputDir, { force: options.force, recipe: recipe.value, baseDir: raw.baseDir });
 */
export async function prepareRunFolder(ctx: CliContext, outputDir: string, options: RunFolderOptions): Promise<void> {
  const last = path.join(outputDir, 'checkpoint-last');
  const model = section(options.recipe, 'model');
  const protect: ProtectedPath[] = ['checkpoint', 'adapter', 'tokenizer']
    .filter((k) => typeof model[k] === 'string')
    .map((k) => ({ path: path.resolve(options.baseDir, model[k] as string), role: `model.${k}` }));
  const evalOnly = section(options.recipe, 'train').eval_only === true;
  const check = checkOutputFolder(outputDir, {
    kind: 'run',
    flag: '--output',
    force: options.force || options.resume !== undefined,
    protect,
    replaceable: (_dir, entries) => entries.every((e) => (evalOnly ? EVAL_FILES : ['features']).includes(e)),
    describe: describeRun,
    alternative: !evalOnly && fs.existsSync(last) ? `or --resume ${last} to continue it` : undefined,
  });
  if (options.resume !== undefined || evalOnly || check.state !== 'forced') return;
  const earlier = check.entries.filter((e) => (RUN_FILES.includes(e) && e !== 'features') || STAGED.test(e));
  for (const entry of earlier) await fs.promises.rm(path.join(outputDir, entry), { recursive: true, force: true });
  if (earlier.length > 0) ctx.print(`--force: replacing the earlier run in ${outputDir} (removed ${listEntries(earlier)})`);
}

/**
 * The --resume folder, restored first when a kill between the two renames of a checkpoint swap
 * left only its hidden copies; says which copy it took.
 *
 * @example
 * const from = await resumeCheckpoint(ctx, path.resolve(ctx.cwd, options.resume));
 */
export async function resumeCheckpoint(ctx: CliContext, dir: string): Promise<string> {
  const recovery = await recoverFolder(dir);
  if (recovery.restoredFrom) {
    const step = stepOf(dir);
    const which = recovery.restoredRole === 'tmp' ? 'the new copy, fully written' : 'the previous copy';
    ctx.print(
      `resume: ${dir} was missing (a checkpoint write was interrupted); restored the complete copy ${path.basename(recovery.restoredFrom)} (${which}${step === undefined ? '' : `, step ${step}`})`,
    );
  }
  if (recovery.removed.length > 0) ctx.print(`resume: removed ${recovery.removed.length} stale temporary folder(s) next to ${dir}`);
  if (!fs.existsSync(dir)) {
    const parent = path.dirname(dir);
    const found = fs.existsSync(parent)
      ? fs
          .readdirSync(parent)
          .filter((n) => fs.existsSync(path.join(parent, n, 'trainer_state.json')))
          .sort()
      : [];
    throw new MmftError('E_INPUT', `--resume ${dir}: no such checkpoint folder`, {
      hint:
        found.length > 0
          ? `checkpoints in ${parent}: ${listEntries(found)}`
          : 'give a checkpoint folder a run wrote (e.g. <output>/checkpoint-last)',
    });
  }
  return dir;
}
