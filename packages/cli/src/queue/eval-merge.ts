// Merges eval shards (eval-shard.ts) in shard order into what `mmft eval recipe --json` writes.
// The sums and the metric feeding follow trainer-standard's eval/evaluate.ts step for step: the
// loss summed part by part from 0, each part's inputs one MetricSink update, so the same parts in
// the same order give the same numbers as the trainer's eval pass (and one shard = one process).
import { MetricSink, MmftError, type FedMetric, type MetricInputKind, type MetricReport } from '@mmft/core';
import type { EvalShardResult } from './eval-shard';

/** One metric's object: its scores, with per_item and groups as `mmft eval caption --json` writes them (eval/metrics.ts). */
export type MetricJson = Readonly<Record<string, unknown>>;

/** `mmft eval recipe --json`: { recipe, examples, eval_loss, perplexity?, <metric id>: { ...scores, per_item, groups } }. */
export interface EvalRecipeJson {
  readonly recipe: string;
  readonly examples: number;
  readonly eval_loss: number;
  readonly perplexity?: number;
  readonly [metric: string]: unknown;
}

const metricJson = (report: MetricReport): MetricJson => ({ ...report.scores, per_item: report.perItem, groups: report.groups });

/**
 * The scores of the shards' parts, in order.
 *
 * @example
 * mergeEvalShards(results, metrics, { recipe: 'r.yaml', examples: 6, producer: 'objective "causal-lm"' }); // { recipe, examples: 6, eval_loss, perplexity, caption: { bleu1, ..., per_item } }
 */
export function mergeEvalShards(
  results: readonly EvalShardResult[],
  metrics: readonly FedMetric[],
  o: { readonly recipe: string; readonly examples: number; readonly producer: string },
): EvalRecipeJson {
  const emits = results[0]?.emits ?? [];
  const sink = new MetricSink(metrics, { name: o.producer, emits });
  sink.reset();
  let lossSum = 0;
  let count = 0;
  const seen = new Set<MetricInputKind>();
  for (const result of results) {
    for (const part of result.parts) {
      lossSum += part.lossSum ?? Number.NaN;
      count += part.count;
      for (const input of part.inputs) seen.add(input.kind);
      if (part.inputs.length > 0) sink.update(part.inputs);
    }
  }
  const starved = metrics.find((m) => !seen.has(m.consumes));
  if (starved) {
    throw new MmftError(
      'E_DATA',
      `metric "${starved.id}" reads ${starved.consumes} inputs, but ${o.producer} produced none from data.eval`,
      {
        hint: `remove ${starved.id} from metrics:, or give data.eval examples that ${o.producer} turns into ${starved.consumes} inputs`,
      },
    );
  }
  const evalLoss = count ? lossSum / count : Number.NaN;
  // As trainer-standard's eval/evaluate.ts: the token-weighted mean, then exp once.
  const perplexity = results[0]?.evalLoss === 'token-cross-entropy' ? { perplexity: Math.exp(evalLoss) } : {};
  const doc: Record<string, unknown> = { recipe: o.recipe, examples: o.examples, eval_loss: evalLoss, ...perplexity };
  for (const { id, report } of sink.reports()) doc[id] = metricJson(report);
  return doc as EvalRecipeJson;
}

/** Every score as `<metric id>.<score>`, as the trainer logs them to metrics.jsonl (for the table and comparisons). */
export function flatScores(doc: EvalRecipeJson, metrics: readonly FedMetric[]): Record<string, number> {
  const out: Record<string, number> = { eval_loss: doc.eval_loss, ...(doc.perplexity !== undefined ? { perplexity: doc.perplexity } : {}) };
  for (const m of metrics) {
    const json = doc[m.id] as Record<string, unknown>;
    for (const [k, v] of Object.entries(json)) if (typeof v === 'number') out[`${m.id}.${k}`] = v;
  }
  return out;
}
