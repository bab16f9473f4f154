// A streaming exact-match accuracy: the share of predictions equal to any reference after
// trimming, lowercasing and collapsing whitespace. Small on purpose: it shows the whole path of
// a third-party metric without any change to mmft itself.
import type { Metric, MetricReport } from '@mmft/core';

/** One scored item: a prediction and the references it may match. */
export interface ExactMatchUpdate {
  readonly id: string;
  readonly prediction: string;
  readonly references: readonly string[];
}

export interface ExactMatchConfig {
  readonly caseSensitive: boolean;
}

export class ExactMatch implements Metric<ExactMatchUpdate> {
  private readonly hits = new Map<string, number>();

  constructor(private readonly config: ExactMatchConfig) {}

  reset(): void {
    this.hits.clear();
  }

  update(batch: ExactMatchUpdate | readonly ExactMatchUpdate[]): void {
    const items: readonly ExactMatchUpdate[] = Array.isArray(batch) ? (batch as readonly ExactMatchUpdate[]) : [batch as ExactMatchUpdate];
    for (const item of items) {
      const prediction = this.normalise(item.prediction);
      this.hits.set(item.id, item.references.some((ref) => this.normalise(ref) === prediction) ? 1 : 0);
    }
  }

  compute(): MetricReport {
    const values = [...this.hits.values()];
    const accuracy = values.length === 0 ? 0 : (100 * values.reduce((a, b) => a + b, 0)) / values.length;
    const perItem = Object.fromEntries([...this.hits].map(([id, hit]) => [id, { exact_match: 100 * hit }]));
    return { scores: { exact_match: accuracy }, perItem };
  }

  private normalise(text: string): string {
    const collapsed = text.trim().replace(/\s+/g, ' ');
    return this.config.caseSensitive ? collapsed : collapsed.toLowerCase();
  }
}
