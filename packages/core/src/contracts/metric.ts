// Metric contract: streaming — `update` per batch, `compute` at the end — so the trainer can
// select checkpoints by any metric, and `mmft eval` can score files of any size.
import type { ProviderBase } from './provider';

/** Scores of a metric: corpus-level numbers, optional per-item and per-group breakdowns. */
export interface MetricReport {
  readonly scores: Readonly<Record<string, number>>;
  readonly perItem?: Readonly<Record<string, Readonly<Record<string, number>>>>;
  readonly groups?: Readonly<Record<string, Readonly<Record<string, Readonly<Record<string, number>>>>>>;
}

/**
 * A streaming metric over updates of type `Update`.
 *
 * @example
 * const m = provider.create({}); m.update({ id: '1', prediction: 'two', references: [...] }); m.compute().scores;
 */
export interface Metric<Update = unknown> {
  reset(): void;
  update(batch: Update | readonly Update[]): void;
  compute(): MetricReport;
}

export interface MetricProvider<Config = unknown, Update = unknown> extends ProviderBase<Config> {
  readonly kind: 'metric';
  /** Score names this metric reports, with the direction that counts as better. */
  readonly scores: Readonly<Record<string, 'higher' | 'lower'>>;
  create(config: Config): Metric<Update>;
}

declare module './kinds' {
  interface ProviderKindMap {
    metric: MetricProvider;
  }
}
