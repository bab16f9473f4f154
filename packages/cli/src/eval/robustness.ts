// Runs the recipe's objective over the eval examples once clean and once per perturbation, keeps
// every metric input of each pass, and scores them overall and per slice (slices.ts), with the gap
// of each perturbed score to the clean one. Like the probe (probe/run-probe.ts) it uses only the
// generic contracts: an objective's evaluate, fed metrics and typed examples.
import {
  MetricSink,
  MmftError,
  type Dataset,
  type Example,
  type FedMetric,
  type MetricInput,
  type MetricInputKind,
  type Objective,
} from '@mmft/core';
import { perturbationLabel, perturbExamples, type Perturbation } from './perturb';
import { groupBy, inputsOf, scoreInputs, scoreSlices, SourceRecords, type DerivedFields, type SliceScores } from './slices';

/** A slice's scores, with the gap (perturbed − clean) of each score under a perturbation. */
export interface SliceResult extends SliceScores {
  readonly gap?: Record<string, number>;
}

/** The scores of one pass (clean or one perturbation). */
export interface PassResult {
  /** "clean", "blur:1.5", "paraphrase", … */
  readonly name: string;
  readonly n: number;
  /** Mean eval loss (Σ loss / Σ count, as the trainer's eval_loss); NaN when the objective reports none. */
  readonly loss: number;
  readonly scores: Record<string, number>;
  readonly gap?: Record<string, number>;
  /** Examples the perturbation left as they were (no rule matched, or no image). */
  readonly unchanged?: number;
  /** Scores on the changed examples only, clean and perturbed (when some were left unchanged). */
  readonly changedOnly?: { readonly n: number; readonly clean: Record<string, number>; readonly scores: Record<string, number> };
  readonly slices: Record<string, SliceResult[]>;
  /** Generated answers by example id (inputs with a prediction; retrieval has none). */
  readonly predictions: Record<string, string>;
}

export interface RobustnessResult {
  readonly examples: number;
  readonly sliceBy: readonly string[];
  readonly seed: number;
  readonly clean: PassResult;
  readonly perturbations: readonly PassResult[];
  /** Metric ids whose inputs could not be split by example (a whole similarity matrix). */
  readonly unsliced: readonly string[];
}

export interface RobustnessOptions {
  readonly objective: Objective;
  readonly metrics: readonly FedMetric[];
  readonly examples: readonly Example[];
  readonly batchSize: number;
  readonly sliceBy: readonly string[];
  readonly perturbations: readonly Perturbation[];
  /** Seed of the noise perturbation. */
  readonly seed: number;
  /** Fields a dataset derives (e.g. a shapes scene's colours). */
  readonly derived?: DerivedFields;
  /** Where the examples came from, for messages. */
  readonly source: string;
  readonly onPass?: (name: string) => void;
}

const inMemory = (examples: readonly Example[]): Dataset => ({
  task: examples[0]!.task,
  size: examples.length,
  async *iterate() {
    yield* examples;
  },
});

async function evaluatePass(o: RobustnessOptions, examples: readonly Example[], kinds: readonly MetricInputKind[]) {
  const inputs: MetricInput[] = [];
  let lossSum = 0;
  let count = 0;
  for await (const part of o.objective.evaluate(inMemory(examples), { batchSize: o.batchSize, kinds })) {
    lossSum += part.lossSum;
    count += part.count;
    inputs.push(...part.inputs);
  }
  return { inputs, loss: count > 0 ? lossSum / count : Number.NaN };
}

const predictionsOf = (inputs: readonly MetricInput[]): Record<string, string> =>
  Object.fromEntries(inputs.flatMap((i) => (i.kind === 'retrieval' ? [] : [[i.id, i.prediction] as const])));

const difference = (a: Record<string, number>, b: Record<string, number>): Record<string, number> =>
  Object.fromEntries(
    Object.keys(a)
      .filter((k) => k in b)
      .map((k) => [k, a[k]! - b[k]!]),
  );

/**
 * Clean and perturbed passes over `examples`, scored overall and per slice of each `sliceBy` field.
 *
 * @example
 * const r = await runRobustness({ objective, metrics, examples, batchSize: 8, sliceBy: ['lang'], perturbations: [{ kind: 'blur', sigma: 1.5 }], seed: 0, source: 'data.eval' });
 * r.perturbations[0].gap; // { 'vqa.accuracy': -12.5 }
 */
export async function runRobustness(o: RobustnessOptions): Promise<RobustnessResult> {
  if (o.examples.length === 0) throw new MmftError('E_DATA', `mmft eval: ${o.source} has no example`, { hint: 'check data.eval' });
  const seen = new Set<string>();
  for (const e of o.examples) {
    if (seen.has(e.id)) {
      throw new MmftError('E_DATA', `mmft eval: ${o.source} has the id "${e.id}" twice, so its records cannot be told apart in slices`, {
        hint: 'give every record its own id',
      });
    }
    seen.add(e.id);
  }
  if (o.metrics.length === 0) {
    throw new MmftError('E_RECIPE', `mmft eval: the recipe lists no metrics to score per slice or perturbation`, {
      hint: 'add metrics: [{ type: vqa }] (or caption, instruction, retrieval) to the recipe',
    });
  }
  // As the probe: ask for the kinds the metrics read (conversations give instruction inputs only when a metric reads them).
  const kinds = o.objective.emits.filter((k) => o.metrics.some((m) => m.consumes === k));
  const sink = new MetricSink(o.metrics, { name: 'mmft eval recipe', emits: kinds });
  const records = new SourceRecords();
  const groups = new Map(o.sliceBy.map((f) => [f, groupBy(o.examples, f, records, o.derived)]));
  const pass = async (name: string, examples: readonly Example[]) => {
    o.onPass?.(name);
    const { inputs, loss } = await evaluatePass(o, examples, kinds);
    const slices = Object.fromEntries([...groups].map(([f, g]) => [f, scoreSlices(sink, inputs, g) as SliceResult[]]));
    return { inputs, loss, scores: scoreInputs(sink, inputs), slices };
  };
  const clean = await pass('clean', o.examples);
  const unsliced = o.metrics
    .filter((m) => m.consumes === 'retrieval' && clean.inputs.some((i) => i.kind === 'retrieval' && i.similarity))
    .map((m) => m.id);
  const perturbations: PassResult[] = [];
  for (const p of o.perturbations) {
    const name = perturbationLabel(p);
    const { examples, unchanged } = await perturbExamples(o.examples, p, o.seed);
    const r = await pass(name, examples);
    const slices = Object.fromEntries(
      Object.entries(r.slices).map(([f, list]) => [
        f,
        list.map((s, i) => ({ ...s, gap: difference(s.scores, clean.slices[f]![i]!.scores) })),
      ]),
    );
    let changedOnly: PassResult['changedOnly'];
    if (unchanged.length > 0 && unchanged.length < o.examples.length) {
      const left = new Set(unchanged);
      const changed = new Set(o.examples.map((e) => e.id).filter((id) => !left.has(id)));
      changedOnly = {
        n: changed.size,
        clean: scoreInputs(sink, inputsOf(clean.inputs, changed)),
        scores: scoreInputs(sink, inputsOf(r.inputs, changed)),
      };
    }
    perturbations.push({
      name,
      n: examples.length,
      loss: r.loss,
      scores: r.scores,
      gap: difference(r.scores, clean.scores),
      unchanged: unchanged.length,
      ...(changedOnly ? { changedOnly } : {}),
      slices,
      predictions: predictionsOf(r.inputs),
    });
  }
  return {
    examples: o.examples.length,
    sliceBy: o.sliceBy,
    seed: o.seed,
    clean: {
      name: 'clean',
      n: o.examples.length,
      loss: clean.loss,
      scores: clean.scores,
      slices: clean.slices,
      predictions: predictionsOf(clean.inputs),
    },
    perturbations,
    unsliced,
  };
}
