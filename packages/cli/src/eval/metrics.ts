// The metrics an `mmft eval` subcommand scores with. `--metric` names them (default: the
// subcommand's built-in metric), `--plugin` loads more; each must consume the kind of input the
// subcommand builds (text for caption, vqa for vqa, retrieval for retrieval). The CLI knows no
// metric by id beyond the built-in's own options and table: any metric of that kind is fed.
import {
  checkConsumers,
  feedMetrics,
  fedMetric,
  parseConfig,
  type FedMetric,
  type MetricInput,
  type MetricInputKind,
  type MetricProducer,
  type MetricReport,
} from '@mmft/core';
import type { CliContext } from '../context';
import { fixed, formatTable } from './table';

/** What a subcommand feeds and which metric it scores with by default. */
export interface EvalSubcommand {
  readonly name: string;
  readonly kind: MetricInputKind;
  /** The metric used without --metric; the subcommand's options (--tokenizer, --variant) are its config. */
  readonly builtin: string;
  readonly builtinConfig: Readonly<Record<string, unknown>>;
}

export interface MetricOptions {
  metric?: string[];
  plugin?: string[];
}

export const producerOf = (sub: EvalSubcommand): MetricProducer => ({ name: `\`mmft eval ${sub.name}\``, emits: [sub.kind] });

/**
 * The metrics `--metric` names (loading `--plugin` packages first), created and checked to
 * consume `sub.kind`; a metric of another kind fails with the metrics that would fit.
 *
 * @example
 * const metrics = await metricsFor(ctx, { name: 'caption', kind: 'text', builtin: 'caption', builtinConfig: { tokenizer: 'ptb' } }, { metric: ['exact-match'] });
 */
export async function metricsFor(ctx: CliContext, sub: EvalSubcommand, o: MetricOptions): Promise<FedMetric[]> {
  const registry = await ctx.createRegistry((o.plugin ?? []).map((specifier) => ({ specifier, origin: '--plugin', baseDir: ctx.cwd })));
  const providers = (o.metric ?? [sub.builtin]).map((id) => registry.resolve('metric', id));
  checkConsumers(providers, producerOf(sub), registry.list('metric'));
  return providers.map((p) => fedMetric(p, parseConfig(p, p.id === sub.builtin ? sub.builtinConfig : {}, `--metric ${p.id}`)));
}

/**
 * Feed `inputs` to `metrics` and present each report: `builtin.show` prints the built-in's table
 * and returns its JSON; any other metric prints its scores. Returns the JSON to write: one
 * metric's object as is, or one object per metric id when several were scored.
 *
 * @example
 * const json = await scoreAndShow(ctx, sub, metrics, inputs, '9 images', { show: (r) => r.scores });
 */
export async function scoreAndShow(
  ctx: CliContext,
  sub: EvalSubcommand,
  metrics: readonly FedMetric[],
  inputs: readonly MetricInput[],
  items: string,
  builtin: { show(report: MetricReport): unknown },
): Promise<unknown> {
  const results = await feedMetrics(metrics, [inputs], producerOf(sub));
  const out: Record<string, unknown> = {};
  for (const { id, report } of results) out[id] = id === sub.builtin ? builtin.show(report) : showScores(ctx, id, report, items);
  return results.length === 1 ? out[results[0]!.id] : out;
}

/** Any metric's corpus scores as a table; its JSON is the scores plus per_item / groups when given. */
function showScores(ctx: CliContext, id: string, report: MetricReport, items: string): unknown {
  formatTable(
    [`${id} (${items})`, 'score'],
    Object.entries(report.scores).map(([k, v]) => [k, fixed(v, 4)]),
  ).forEach((l) => ctx.print(l));
  return { ...report.scores, per_item: report.perItem, groups: report.groups };
}
