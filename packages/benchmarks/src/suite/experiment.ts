// An experiment file (packages/benchmarks/experiments/<name>.yaml): an ordinary recipe — read with
// core's readRecipe (so `extends:` shares a base) and validated by validateRecipe against the
// plugins — plus a `bench:` block validated by benchConfigSchema. Files named _*.yaml are bases.
import * as fs from 'node:fs';
import * as path from 'node:path';
import { MmftError, readRecipe, validateRecipe, type ProviderResolver, type ValidatedRecipe } from '@mmft/core';
import { benchConfigSchema, type BenchConfig, type SuiteName } from './bench-config';

/** A validated experiment. */
export interface Experiment {
  /** File name without .yaml. */
  readonly name: string;
  readonly file: string;
  readonly bench: BenchConfig;
  /** The recipe without `bench:`, every plugin section parsed with its defaults. */
  readonly recipe: ValidatedRecipe;
}

/** The experiments folder shipped with this package. */
export const EXPERIMENTS_DIR = path.resolve(__dirname, '..', '..', 'experiments');

/**
 * Read and validate one experiment file; problems are one E_RECIPE naming file and field.
 *
 * @example
 * const exp = loadExperiment('experiments/clip-small-full.yaml', await benchRegistry());
 */
export function loadExperiment(file: string, resolver: ProviderResolver): Experiment {
  const raw = readRecipe(file);
  const { bench, ...rest } = raw.value;
  if (bench === undefined) {
    throw new MmftError('E_RECIPE', `${raw.file}: an experiment needs a bench: block (kind, suites, title)`, {
      hint: 'see docs/benchmarks.md, "Experiment files"',
    });
  }
  const parsed = benchConfigSchema.safeParse(bench);
  if (!parsed.success) {
    const problems = parsed.error.issues.map((issue) => `bench.${issue.path.join('.')}: ${issue.message}`);
    throw new MmftError('E_RECIPE', `${raw.file} is invalid:\n  ${problems.join('\n  ')}`);
  }
  const recipe = validateRecipe({ ...raw, value: rest }, resolver);
  return { name: path.basename(file).replace(/\.ya?ml$/, ''), file: raw.file, bench: parsed.data, recipe };
}

/**
 * Experiment files of `dir` in name order (bases `_*.yaml` skipped), optionally only those of
 * `suite` or those named in `only`.
 */
export function loadExperiments(
  resolver: ProviderResolver,
  options: { dir?: string; suite?: SuiteName; only?: readonly string[] } = {},
): Experiment[] {
  const dir = options.dir ?? EXPERIMENTS_DIR;
  const files = fs
    .readdirSync(dir)
    .filter((f) => /\.ya?ml$/.test(f) && !f.startsWith('_'))
    .sort();
  const all = files.map((f) => loadExperiment(path.join(dir, f), resolver));
  if (options.only && options.only.length > 0) {
    const unknown = options.only.filter((name) => !all.some((e) => e.name === name));
    if (unknown.length > 0)
      throw new MmftError('E_INPUT', `unknown experiment(s) ${unknown.join(', ')}; known: ${all.map((e) => e.name).join(', ')}`);
    return all.filter((e) => options.only!.includes(e.name));
  }
  return options.suite ? all.filter((e) => e.bench.suites.includes(options.suite!)) : all;
}

/** A plugin-selected section of the validated recipe, without its discriminator key. */
export function sectionOf(experiment: Experiment, key: string): { id: string; settings: Record<string, unknown> } | undefined {
  const value = experiment.recipe.value[key];
  if (typeof value !== 'object' || value === null || Array.isArray(value)) return undefined;
  const { type, method, ...settings } = value as Record<string, unknown>;
  return { id: String(type ?? method), settings };
}

/** The objective a causal-LM training experiment names. */
export const CAUSAL_LM_OBJECTIVE = 'causal-lm';

/**
 * True when the experiment runs a vision-to-LLM model (BLIP-2, LLaVA): the caption kind, or causal-LM
 * training of a model whose config nests the language model (text_config) beside a vision_config.
 */
export function isVisionLmExperiment(experiment: Experiment): boolean {
  const { kind } = experiment.bench;
  if (kind === 'caption') return true;
  const config = (experiment.recipe.value.model as { config?: Record<string, unknown> } | undefined)?.config ?? {};
  const nested = typeof config.text_config === 'object' && typeof config.vision_config === 'object';
  return kind === 'train' && nested && sectionOf(experiment, 'objective')?.id === CAUSAL_LM_OBJECTIVE;
}

/** True when the experiment runs a causal LM alone: LM training (objective: causal-lm) or the prefill / decode kinds. */
export function isLmExperiment(experiment: Experiment): boolean {
  if (isVisionLmExperiment(experiment)) return false;
  const { kind } = experiment.bench;
  return kind === 'prefill' || kind === 'decode' || (kind === 'train' && sectionOf(experiment, 'objective')?.id === CAUSAL_LM_OBJECTIVE);
}
