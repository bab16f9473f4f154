// Feeds metrics from a stream of typed inputs by the kind each metric consumes. Whoever produces
// predictions (an objective's evaluation, `mmft eval`) says which kinds it emits; a metric that
// reads a kind the producer never emits is refused up front, before any work is done.
import { MmftError } from '../errors';
import type { Metric, MetricProvider, MetricReport } from '../contracts/metric';
import { METRIC_INPUT_KINDS, type MetricInput, type MetricInputKind } from '../contracts/metric-input';

/** A created metric, the name its scores carry (`<id>.<score>`) and the kind it reads. */
export interface FedMetric {
  /** The recipe's `type` (or a label), used in scores and messages. */
  readonly id: string;
  readonly consumes: MetricInputKind;
  readonly metric: Metric;
}

/** Who emits the inputs, as messages name it, and which kinds it emits. */
export interface MetricProducer {
  /** e.g. 'objective "contrastive"' or '`mmft eval caption`'. */
  readonly name: string;
  readonly emits: readonly MetricInputKind[];
}

/** A metric a registry offers, for the "which metrics would fit" part of an error. */
export interface MetricOffer {
  readonly id: string;
  readonly consumes: MetricInputKind;
}

/**
 * A provider's metric created from its config section, named by the provider id.
 *
 * @example
 * fedMetric(registry.resolve('metric', 'caption'), { tokenizer: 'ptb' }); // { id: 'caption', consumes: 'text', metric }
 */
export function fedMetric(provider: MetricProvider, config: unknown, id: string = provider.id): FedMetric {
  return { id, consumes: provider.consumes, metric: provider.create(config) };
}

const list = (items: readonly string[]): string => (items.length === 0 ? '(none)' : items.join(', '));

/**
 * Throws when a metric consumes a kind `producer` never emits (naming the metric, the kind it
 * consumes and what the producer emits), or when two metrics share an id.
 * `available` (e.g. every metric of the registry) lets the hint name the metrics that would fit.
 *
 * @example
 * checkConsumers([{ id: 'vqa', consumes: 'vqa' }], { name: '`mmft eval caption`', emits: ['text'] }); // throws
 */
export function checkConsumers(metrics: readonly MetricOffer[], producer: MetricProducer, available: readonly MetricOffer[] = []): void {
  const seen = new Set<string>();
  for (const m of metrics) {
    if (seen.has(m.id)) {
      throw new MmftError('E_CONFIG', `metric "${m.id}" is listed twice; its scores would overwrite each other`, {
        hint: `list "${m.id}" once`,
      });
    }
    seen.add(m.id);
    if (!(METRIC_INPUT_KINDS as readonly string[]).includes(m.consumes)) {
      const what =
        m.consumes === undefined
          ? 'does not say which input kind it consumes'
          : `consumes "${String(m.consumes)}", which is no metric input kind`;
      throw new MmftError('E_PLUGIN_INVALID', `metric "${m.id}" ${what}`, {
        hint: `a metric provider declares consumes: one of ${METRIC_INPUT_KINDS.join(', ')} (docs/metrics.md)`,
      });
    }
    if (producer.emits.includes(m.consumes)) continue;
    const fitting = available.filter((a) => producer.emits.includes(a.consumes)).map((a) => `${a.id} (${a.consumes})`);
    throw new MmftError(
      'E_UNSUPPORTED',
      `metric "${m.id}" consumes ${m.consumes} inputs, but ${producer.name} emits only: ${list(producer.emits)}`,
      {
        hint:
          available.length > 0
            ? `metrics that consume what ${producer.name} emits: ${list(fitting)}`
            : `remove "${m.id}" from the metrics, or score it with a producer that emits ${m.consumes} inputs`,
      },
    );
  }
}

/**
 * Routes inputs to the metrics that consume their kind, keeping their order, and collects the
 * reports. Created once per evaluation setup; `reset()` before each pass.
 *
 * @example
 * const sink = new MetricSink([{ id: 'caption', consumes: 'text', metric }], { name: 'objective "causal-lm"', emits: ['text'] });
 * sink.update(chunk.inputs); sink.scores(); // { 'caption.cider': 0.91, ... }
 */
export class MetricSink {
  constructor(
    readonly metrics: readonly FedMetric[],
    private readonly producer: MetricProducer,
  ) {
    checkConsumers(metrics, producer);
  }

  reset(): void {
    for (const m of this.metrics) m.metric.reset();
  }

  /** Feeds each metric the inputs of its kind, as one batch per call. */
  update(inputs: MetricInput | readonly MetricInput[]): void {
    const items: readonly MetricInput[] = Array.isArray(inputs) ? inputs : [inputs as MetricInput];
    const byKind = new Map<MetricInputKind, MetricInput[]>();
    for (const item of items) {
      if (!this.producer.emits.includes(item.kind)) {
        throw new MmftError(
          'E_PLUGIN_INVALID',
          `${this.producer.name} emitted a ${String(item.kind)} input, but declares it emits only: ${list(this.producer.emits)}`,
          {
            hint: 'the producer must list every kind it emits, so metrics are checked before the run',
          },
        );
      }
      const group = byKind.get(item.kind);
      if (group) group.push(item);
      else byKind.set(item.kind, [item]);
    }
    for (const m of this.metrics) {
      const group = byKind.get(m.consumes);
      if (group) m.metric.update(group);
    }
  }

  /** Each metric's report, in the order the metrics were given. */
  reports(): { id: string; report: MetricReport }[] {
    return this.metrics.map((m) => ({ id: m.id, report: m.metric.compute() }));
  }

  /** Every score as `<metric id>.<score>` (the names the trainer logs and selects checkpoints by). */
  scores(): Record<string, number> {
    const out: Record<string, number> = {};
    for (const { id, report } of this.reports()) for (const [name, value] of Object.entries(report.scores)) out[`${id}.${name}`] = value;
    return out;
  }
}

/**
 * Resets the metrics, feeds them a whole stream (single inputs or batches, sync or async) and
 * returns their reports.
 *
 * @example
 * const [caption] = await feedMetrics([fedMetric(captionMetric, {})], [{ kind: 'text', id: '1', prediction: 'a cat', references: ['a cat'] }], { name: 'my script', emits: ['text'] });
 */
export async function feedMetrics(
  metrics: readonly FedMetric[],
  inputs: Iterable<MetricInput | readonly MetricInput[]> | AsyncIterable<MetricInput | readonly MetricInput[]>,
  producer: MetricProducer,
): Promise<{ id: string; report: MetricReport }[]> {
  const sink = new MetricSink(metrics, producer);
  sink.reset();
  for await (const batch of inputs) sink.update(batch);
  return sink.reports();
}
