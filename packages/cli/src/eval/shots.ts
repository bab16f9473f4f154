// `mmft eval recipe --shots 0,2,4`: the same saved model scored on data.eval once per number of
// in-context examples, the recipe's causal-lm objective rebuilt with `few_shot.shots = k` for each
// pass (docs/metrics.md, "Few-shot sweeps"). Each pass goes through runRobustness with no slice and
// no perturbation, so its scores are the ones `--slice-by` reports overall. open_flamingo's
// evaluation sweeps shots the same way (open_flamingo/eval/evaluate.py: one pass per entry of --shots).
import { InvalidArgumentError } from 'commander';
import { isCausalLanguageModel, MmftError, type Example, type FedMetric, type Objective, type VisionLanguageModel } from '@mmft/core';
import { sectionOf } from '../probe/recipe-parts';
import { runRobustness } from './robustness';

/** One pass of the sweep: its shots, every metric's score and the mean eval loss when the objective reports one. */
export interface ShotsEntry {
  readonly shots: number;
  readonly metrics: Record<string, number>;
  readonly evalLoss?: number;
  /** Generated answers by example id. */
  readonly predictions: Record<string, string>;
}

/** eval.json of a sweep. */
export interface ShotsDocument {
  readonly recipe: string;
  readonly modelType: string;
  readonly examples: number;
  readonly shots: readonly ShotsEntry[];
}

/**
 * Parses `--shots 0,2,4`: distinct whole numbers ≥ 0, returned in ascending order (the plot's x axis).
 *
 * @example
 * parseShots('4,0,2'); // [0, 2, 4]
 */
export function parseShots(value: string): number[] {
  const items = value.split(',').map((s) => s.trim());
  const shots: number[] = [];
  for (const item of items) {
    const n = Number(item);
    if (item === '' || !Number.isInteger(n) || n < 0) {
      throw new InvalidArgumentError(`--shots takes comma-separated whole numbers ≥ 0 (e.g. 0,2,4), got "${item}" in "${value}"`);
    }
    if (shots.includes(n)) throw new InvalidArgumentError(`--shots lists ${n} twice in "${value}"`);
    shots.push(n);
  }
  return shots.sort((a, b) => a - b);
}

/**
 * The recipe with `objective.few_shot.shots = k`, every other setting kept (the recipe's own
 * few_shot.support, seed, …). Only the causal-lm objective builds episodes: another objective, or
 * an absent objective: on a model that does not default to causal-lm, is E_CONFIG.
 *
 * @example
 * withShots(recipe, 2, 'runs/x.yaml').objective; // { type: 'causal-lm', ..., few_shot: { ..., shots: 2 } }
 */
export function withShots(recipe: Record<string, unknown>, k: number, file: string, model?: VisionLanguageModel): Record<string, unknown> {
  const objective = sectionOf(recipe.objective);
  const defaultsToCausalLm = model !== undefined && (isCausalLanguageModel(model) || model.family === 'vision-to-llm');
  const type = objective?.type ?? (defaultsToCausalLm || model === undefined ? 'causal-lm' : 'contrastive');
  if (type !== 'causal-lm') {
    throw new MmftError(
      'E_CONFIG',
      `${file}: --shots needs the causal-lm objective (objective.few_shot), but the recipe's objective is ${String(type)}`,
      {
        hint: 'evaluate a captioning or VQA recipe with objective: { type: causal-lm }, or drop --shots',
      },
    );
  }
  const fewShot = sectionOf(objective?.few_shot) ?? {};
  return { ...recipe, objective: { ...(objective ?? { type: 'causal-lm' }), few_shot: { ...fewShot, shots: k } } };
}

/** What a sweep needs: a way to build the objective at k shots, and what to score it on. */
export interface ShotsSweepOptions {
  readonly shots: readonly number[];
  /** Builds the objective (and its metrics and batch size) for k shots; the sweep disposes the objective. */
  readonly createObjective: (k: number) => Promise<{ objective: Objective; metrics: FedMetric[]; batchSize: number }>;
  readonly examples: readonly Example[];
  /** Where the examples came from, for messages. */
  readonly source: string;
  readonly onPass?: (k: number) => void;
}

/**
 * One evaluation pass per entry of `shots`, each with its own objective.
 *
 * @example
 * const entries = await runShotsSweep({ shots: [0, 2], createObjective: (k) => build(withShots(recipe, k, file)), examples, source: 'data.eval' });
 * entries[1].metrics['caption.cider'];
 */
export async function runShotsSweep(o: ShotsSweepOptions): Promise<ShotsEntry[]> {
  const entries: ShotsEntry[] = [];
  for (const k of o.shots) {
    o.onPass?.(k);
    const { objective, metrics, batchSize } = await o.createObjective(k);
    try {
      const r = await runRobustness({
        objective,
        metrics,
        examples: o.examples,
        batchSize,
        sliceBy: [],
        perturbations: [],
        seed: 0,
        source: o.source,
      });
      entries.push({
        shots: k,
        metrics: r.clean.scores,
        ...(Number.isFinite(r.clean.loss) ? { evalLoss: r.clean.loss } : {}),
        predictions: r.clean.predictions,
      });
    } finally {
      objective.dispose();
    }
  }
  return entries;
}
