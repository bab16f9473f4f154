// A streaming exact-match accuracy: the share of predictions equal to any reference after
// trimming, lowercasing and collapsing whitespace. Small on purpose: it shows the whole path of
// a third-party metric without any change to mmft itself. It reads core's `text` inputs, so
// whatever emits predictions with references (`mmft eval caption`, an objective) can feed it.
import type { Metric, MetricReport, TextInput, Untagged } from '@mmft/core';

/** One scored item as `update` takes it: core's `text` input, `kind` optional. */
export type ExactMatchUpdate = Untagged<TextInput>;

export interface ExactMatchConfig {
  readonly caseSensitive: boolean;
}

export class ExactMatch implements Metric<TextInput> {
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
