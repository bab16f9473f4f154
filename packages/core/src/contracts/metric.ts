// Metric contract: streaming — `update` per batch, `compute` at the end — so the trainer can
// select checkpoints by any metric, and `mmft eval` can score files of any size. A metric reads
// one kind of typed input (metric-input.ts) and says which: producers feed metrics by that kind.
import type { MetricInput, MetricInputKind, MetricInputOf } from './metric-input';
import type { ProviderBase } from './provider';

/** Scores of a metric: corpus-level numbers, optional per-item and per-group breakdowns. */
export interface MetricReport {
  readonly scores: Readonly<Record<string, number>>;
  readonly perItem?: Readonly<Record<string, Readonly<Record<string, number>>>>;
  readonly groups?: Readonly<Record<string, Readonly<Record<string, Readonly<Record<string, number>>>>>>;
}

/**
 * A streaming metric over inputs of type `Input` (one metric input kind, metric-input.ts).
 *
 * @example
 * const m = provider.create({}); m.update({ kind: 'text', id: '1', prediction: 'two', references: [...] }); m.compute().scores;
 */
export interface Metric<Input extends MetricInput = MetricInput> {
  reset(): void;
  update(batch: Input | readonly Input[]): void;
  compute(): MetricReport;
  /**
   * Settings the scores depend on beyond the data, printed next to them (e.g. the caption metric's
   * tokenizer: scores under different tokenisers are not comparable).
   */
  readonly settings?: Readonly<Record<string, string>>;
}

/**
 * A metric plugin that reads inputs of kind `consumes`; `Consumed` is that input's type
 * (`ConfigInput`: what a recipe may write, as in ProviderBase).
 *
 * @example
 * const exactMatch: MetricProvider<{ caseSensitive: boolean }, TextInput> = { kind: 'metric', id: 'exact-match', consumes: 'text', ... };
 */
export interface MetricProvider<Config = unknown, Consumed extends MetricInput = MetricInput, ConfigInput = unknown> extends ProviderBase<
  Config,
  ConfigInput
> {
  readonly kind: 'metric';
  /** The kind of input this metric reads; producers feed it only inputs of this kind. */
  readonly consumes: Consumed['kind'];
  /** Score names this metric reports, with the direction that counts as better. */
  readonly scores: Readonly<Record<string, 'higher' | 'lower'>>;
  create(config: Config): Metric<Consumed>;
}

/** A metric provider of one input kind. */
export type MetricProviderOf<K extends MetricInputKind, Config = unknown> = MetricProvider<Config, MetricInputOf<K>>;

declare module './kinds' {
  interface ProviderKindMap {
    metric: MetricProvider;
  }
}
