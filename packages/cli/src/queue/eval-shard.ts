// The `eval` shard: a recipe's model through its objective on examples [start, end) of data.eval
// (Objective.evaluate's `range`), returned as the evaluated parts in order, for the coordinator to
// merge (eval-merge.ts). The model, objective and dataset are built as `mmft eval recipe
// --slice-by` builds them (probe/recipe-parts.ts, commands/probe.ts) and kept in the worker's cache
// between shards of the same run.
import * as fs from 'node:fs';
import {
  datasetContext,
  MmftError,
  readRecipe,
  recipePluginRequests,
  validateRecipe,
  type Dataset,
  type EvalLossKind,
  type EvalPart,
  type FedMetric,
  type MetricInput,
  type MetricInputKind,
  type Objective,
  type PluginRegistry,
  type VisionLanguageModel,
} from '@mmft/core';
import type { CliContext } from '../context';
import { loadProbedModel } from '../commands/probe';
import { createRecipeObjective, sectionOf, selectRecipeBackend, withoutType } from '../probe/recipe-parts';
import type { ShardHandler, ShardRange, WorkerCache } from './handlers';

/** What an eval shard needs; every path is absolute (workers share the coordinator's filesystem). */
export interface EvalShardSpec {
  readonly recipe: string;
  readonly set: readonly string[];
  readonly plugin: readonly string[];
  /** Where the coordinator ran: relative --set paths resolve from it. */
  readonly cwd: string;
  readonly model?: string;
  readonly adapter?: string;
  /** The objective's output folder (caches such as features/ go under it). */
  readonly outputDir: string;
  readonly batchSize: number;
  /** Examples in data.eval: a range covering them all is evaluated as one pass (no `range`). */
  readonly total: number;
}

/** A shard's parts, as JSON carries them (typed arrays as plain arrays, a NaN loss as null). */
export interface EvalShardResult {
  readonly emits: readonly MetricInputKind[];
  readonly evalLoss?: EvalLossKind;
  readonly parts: readonly { readonly lossSum: number | null; readonly count: number; readonly inputs: readonly MetricInput[] }[];
}

interface EvalSession {
  readonly model: VisionLanguageModel;
  readonly objective: Objective;
  readonly metrics: readonly FedMetric[];
  readonly dataset: Dataset;
  readonly batchSize: number;
  readonly source: string;
}

/** Plain arrays for typed ones, so that a retrieval input survives JSON with the same numbers. */
export function jsonableInput(input: MetricInput): MetricInput {
  if (input.kind !== 'retrieval') return input;
  const rows = (a: ArrayLike<number>) => Array.from(a);
  return {
    kind: 'retrieval',
    ...(input.images ? { images: input.images.map((i) => ({ id: i.id, embedding: rows(i.embedding) })) } : {}),
    ...(input.texts ? { texts: input.texts.map((t) => ({ imageId: t.imageId, embedding: rows(t.embedding) })) } : {}),
    ...(input.similarity
      ? { similarity: { matrix: input.similarity.matrix.map(rows), textToImage: rows(input.similarity.textToImage) } }
      : {}),
  };
}

/** Fails the shard when this machine does not see a path the coordinator gave. */
function checkPaths(spec: EvalShardSpec): void {
  const named: [string, string | undefined][] = [
    ['recipe', spec.recipe],
    ['working folder', spec.cwd],
    ['--model', spec.model],
    ['--adapter', spec.adapter],
  ];
  for (const [role, p] of named) {
    if (p !== undefined && !fs.existsSync(p)) {
      throw new MmftError('E_INPUT', `the ${role} ${p} does not exist on this worker`, {
        hint: 'workers read the recipe, data and model at the paths the coordinator saw: run them where those paths exist (a shared filesystem)',
      });
    }
  }
}

/** The recipe's data.eval, opened as the trainer opens it (trainer-standard's loop/setup.ts). */
export async function openEvalData(
  registry: PluginRegistry,
  recipe: Record<string, unknown>,
  baseDir: string,
  file: string,
): Promise<Dataset> {
  const section = sectionOf(sectionOf(recipe.data)?.eval);
  if (!section) {
    throw new MmftError('E_RECIPE', `${file}: the recipe has no data.eval section to evaluate`, {
      hint: 'add data: { eval: { type: jsonl, path: ./eval.jsonl } } and metrics: to the recipe',
    });
  }
  const [type, settings] = withoutType(section);
  return registry.resolve('dataset', type).open(settings, datasetContext(registry, baseDir, 'data.eval'));
}

async function openSession(spec: EvalShardSpec, ctx: CliContext): Promise<EvalSession> {
  const raw = readRecipe(spec.recipe, spec.set, { cwd: spec.cwd });
  const fromFlag = spec.plugin.map((specifier) => ({ specifier, origin: '--plugin', baseDir: spec.cwd }));
  const registry = await ctx.createRegistry([...recipePluginRequests(raw), ...fromFlag], raw.baseDir);
  const recipe = validateRecipe(raw, registry).value as Record<string, unknown>;
  await selectRecipeBackend(registry, recipe);
  const dataset = await openEvalData(registry, recipe, raw.baseDir, raw.file);
  const probe = { set: [...spec.set], model: spec.model, adapter: spec.adapter, split: 'eval' as const, n: Infinity, seed: 0 };
  const model = await loadProbedModel(registry, recipe, raw.baseDir, ctx, probe, raw.file);
  try {
    const { objective, metrics, batchSize } = await createRecipeObjective(registry, recipe, model, spec.outputDir, spec.batchSize);
    // As the trainer's eval pass (trainer-standard's loop/run-training.ts runEval): no dropout.
    model.root.eval();
    return { model, objective, metrics, dataset, batchSize, source: `data.eval of ${raw.file}` };
  } catch (error) {
    model.dispose();
    throw error;
  }
}

/** The shard's session key: the same recipe file (and its mtime), overrides, model and adapter share one loaded model. */
const sessionKey = (spec: EvalShardSpec): string =>
  JSON.stringify([
    'eval',
    spec.recipe,
    fs.statSync(spec.recipe).mtimeMs,
    spec.set,
    spec.plugin,
    spec.cwd,
    spec.model,
    spec.adapter,
    spec.outputDir,
    spec.batchSize,
  ]);

/**
 * The metric input kinds the recipe's metrics read, in the order the trainer asks for them
 * (trainer-standard's eval/evaluate.ts).
 */
export const kindsOf = (metrics: readonly FedMetric[]): MetricInputKind[] => [...new Set(metrics.map((m) => m.consumes))];

/** Evaluates `range` of the session's data.eval; refuses a whole-set kind on a part of the set. */
export async function evaluateRange(session: EvalSession, range: ShardRange, total: number): Promise<EvalShardResult> {
  const { objective, metrics } = session;
  const kinds = kindsOf(metrics);
  const whole = range.start === 0 && range.end >= total;
  if (!whole) {
    const refused = metrics.filter((m) => objective.wholeSetKinds?.includes(m.consumes));
    if (refused.length > 0) {
      throw new MmftError(
        'E_UNSUPPORTED',
        `metric "${refused[0]!.id}" reads ${refused[0]!.consumes} inputs, which this objective computes by comparing every eval example with every other, so they cannot be computed shard by shard`,
        {
          hint: `evaluate without --queue (one process sees the whole set), or remove ${refused.map((m) => m.id).join(', ')} from metrics:`,
        },
      );
    }
  }
  if (range.start % session.batchSize !== 0) {
    throw new MmftError('E_INPUT', `a shard starting at example ${range.start} does not start a batch of ${session.batchSize}`, {
      hint: '--shard-size must be a multiple of the batch size, so that every shard holds the batches of the whole pass',
    });
  }
  const parts: EvalShardResult['parts'][number][] = [];
  const options = { batchSize: session.batchSize, kinds, ...(whole ? {} : { range }) };
  for await (const part of objective.evaluate(session.dataset, options) as AsyncIterable<EvalPart>) {
    parts.push({ lossSum: Number.isNaN(part.lossSum) ? null : part.lossSum, count: part.count, inputs: part.inputs.map(jsonableInput) });
  }
  return { emits: objective.emits, ...(objective.evalLoss ? { evalLoss: objective.evalLoss } : {}), parts };
}

/** The `eval` kind of `mmft worker`. */
export const evalShardHandler: ShardHandler<EvalShardSpec, EvalShardResult> = {
  kind: 'eval',
  async run(spec: EvalShardSpec, range: ShardRange, cache: WorkerCache, ctx: CliContext): Promise<EvalShardResult> {
    checkPaths(spec);
    const session = await cache.get(
      sessionKey(spec),
      () => openSession(spec, ctx),
      (s) => {
        s.objective.dispose();
        s.model.dispose();
      },
    );
    return evaluateRange(session, range, spec.total);
  },
};
