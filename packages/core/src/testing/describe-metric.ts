// Conformance kit every metric plugin runs (docs/conventions.md §11, as tfjs backends re-run core's suite):
// the manifest rules, the declared input kind, defaults from an empty section, streaming
// equivalence (one update per item gives the same report as one batch), reset, declared score
// names, and the same report when the inputs are routed by kind through MetricSink.
import { describe, expect, test } from '@jest/globals';
import type { MetricProvider } from '../contracts/metric';
import { METRIC_INPUT_KINDS, type MetricInput } from '../contracts/metric-input';
import { MetricSink } from '../metrics/feed';
import { isKebabId } from '../registry/names';

export interface MetricConformanceCase<Input extends MetricInput> {
  /** Config section (without `type`) to create the metric with. */
  readonly config: unknown;
  /** Inputs of the kind the metric consumes; at least two, so streaming is exercised. */
  readonly updates: readonly Input[];
}

/**
 * Register the shared metric tests for `provider`.
 *
 * @example
 * describeMetric(vqaMetric, { config: {}, updates: [{ kind: 'vqa', id: '1', prediction: 'two', answers: [...] }, ...] });
 */
export function describeMetric<Config, Input extends MetricInput>(
  provider: MetricProvider<Config, Input>,
  sample: MetricConformanceCase<Input>,
): void {
  describe(`metric conformance: ${provider.id}`, () => {
    test('manifest: kebab-case id, description, declared scores', () => {
      expect(provider.kind).toBe('metric');
      expect(isKebabId(provider.id)).toBe(true);
      expect(provider.description.length).toBeGreaterThan(0);
      expect(Object.keys(provider.scores).length).toBeGreaterThan(0);
    });

    test('consumes one metric input kind, and the sample inputs are of that kind', () => {
      expect(METRIC_INPUT_KINDS).toContain(provider.consumes);
      expect(sample.updates.length).toBeGreaterThanOrEqual(2);
      for (const input of sample.updates) expect(input.kind).toBe(provider.consumes);
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

    test('fed by kind through MetricSink, among inputs of other kinds, it gives the same report', () => {
      const config = provider.configSchema.parse(sample.config);
      const direct = provider.create(config);
      direct.update(sample.updates);
      const others = METRIC_INPUT_KINDS.filter((k) => k !== provider.consumes);
      const sink = new MetricSink([{ id: provider.id, consumes: provider.consumes, metric: provider.create(config) }], {
        name: 'the conformance kit',
        emits: METRIC_INPUT_KINDS,
      });
      // Inputs of other kinds must never reach the metric: interleave one of each.
      const noise: MetricInput[] = others.map((kind) =>
        kind === 'retrieval'
          ? { kind }
          : kind === 'text'
            ? { kind, id: 'noise', prediction: 'x', references: ['y'] }
            : kind === 'instruction'
              ? { kind, id: 'noise', prediction: 'x', reference: 'y', instruction: 'z' }
              : { kind, id: 'noise', prediction: 'x', answers: ['y'] },
      );
      sink.update([...noise, ...sample.updates.slice(0, 1)]);
      sink.update([...sample.updates.slice(1), ...noise]);
      expect(sink.reports()).toEqual([{ id: provider.id, report: direct.compute() }]);
    });
  });
}
