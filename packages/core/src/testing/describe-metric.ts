// Conformance kit every metric plugin runs (STYLE.md §11, as tfjs backends re-run core's suite):
// the manifest rules, defaults from an empty section, streaming equivalence (one update per item
// gives the same report as one batch), reset, and declared score names.
import { describe, expect, test } from '@jest/globals';
import type { MetricProvider } from '../contracts/metric';
import { isKebabId } from '../registry/names';

export interface MetricConformanceCase<Update> {
  /** Config section (without `type`) to create the metric with. */
  readonly config: unknown;
  /** Updates to feed; at least two, so streaming is exercised. */
  readonly updates: readonly Update[];
}

/**
 * Register the shared metric tests for `provider`.
 *
 * @example
 * describeMetric(vqaAccuracy, { config: {}, updates: [{ id: '1', prediction: 'two', answers: [...] }, ...] });
 */
export function describeMetric<Config, Update>(provider: MetricProvider<Config, Update>, sample: MetricConformanceCase<Update>): void {
  describe(`metric conformance: ${provider.id}`, () => {
    test('manifest: kebab-case id, description, declared scores', () => {
      expect(provider.kind).toBe('metric');
      expect(isKebabId(provider.id)).toBe(true);
      expect(provider.description.length).toBeGreaterThan(0);
      expect(Object.keys(provider.scores).length).toBeGreaterThan(0);
    });

    test('the config schema accepts the sample config', () => {
      expect(provider.configSchema.safeParse(sample.config).success).toBe(true);
    });

    test('streaming updates give the same report as one batch, and reset clears state', () => {
      const config = provider.configSchema.parse(sample.config);
      const streamed = provider.create(config);
      for (const update of sample.updates) streamed.update(update);
      const batched = provider.create(config);
      batched.update(sample.updates);
      const report = streamed.compute();
      expect(batched.compute()).toEqual(report);
      expect(streamed.compute()).toEqual(report); // compute does not consume state
      for (const name of Object.keys(provider.scores)) expect(Number.isFinite(report.scores[name])).toBe(true);
      streamed.reset();
      streamed.update(sample.updates);
      expect(streamed.compute()).toEqual(report);
    });
  });
}
