// Conformance kit every objective plugin runs (docs/conventions.md §11): the manifest; collate
// deterministic in seed, epoch and position (what bit-equal resume stands on); a finite loss with a
// positive count; evaluate emitting only the kinds the objective declares, and every kind asked
// for; and a saveState/loadState round trip.
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import * as tf from '@tensorflow/tfjs-core';
import { describe, expect, test } from '@jest/globals';
import type { Example } from '../contracts/dataset';
import type { Objective, ObjectiveBatch, ObjectiveContext, ObjectiveProvider } from '../contracts/objective';
import { METRIC_INPUT_KINDS } from '../contracts/metric-input';
import { isKebabId } from '../registry/names';

export interface ObjectiveConformanceFixture {
  /** The recipe section without `type`. */
  readonly config: unknown;
  /** A fresh context (model, resolver with the objective's loss, datasets) per test. */
  context(outputDir: string): Promise<ObjectiveContext>;
  /** At least two training examples the objective accepts. */
  readonly examples: readonly Example[];
}

const valuesOf = (batch: ObjectiveBatch): Record<string, number[]> =>
  Object.fromEntries(Object.entries(batch.inputs).flatMap(([k, t]) => (t ? [[k, Array.from(t.dataSync())]] : [])));

/**
 * Register the shared objective tests for `provider`.
 *
 * @example
 * describeObjective(contrastiveObjective, { config: {}, context: (dir) => tinyContext(dir), examples });
 */
export function describeObjective<Config>(provider: ObjectiveProvider<Config>, fixture: ObjectiveConformanceFixture): void {
  const create = async (): Promise<{ objective: Objective; dir: string }> => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'mmft-objective-'));
    const config = provider.configSchema.parse(fixture.config);
    return { objective: await provider.create(config, await fixture.context(dir)), dir };
  };

  describe(`objective conformance: ${provider.id}`, () => {
    test('manifest: kebab-case id, description, schema', () => {
      expect(provider.kind).toBe('objective');
      expect(isKebabId(provider.id)).toBe(true);
      expect(provider.description.length).toBeGreaterThan(0);
      expect(() => provider.configSchema.parse(fixture.config)).not.toThrow();
    });

    test('collate is deterministic in seed, epoch and position', async () => {
      const { objective } = await create();
      const at = { epoch: 1, positions: fixture.examples.map((_, i) => i + 3) };
      const a = await objective.collate(fixture.examples, at);
      const b = await objective.collate(fixture.examples, at);
      expect(valuesOf(b)).toEqual(valuesOf(a));
      expect(b.count).toBe(a.count);
      a.dispose();
      b.dispose();
      objective.dispose();
    });

    test('the loss is a finite scalar with a positive count', async () => {
      const { objective } = await create();
      const batch = await objective.collate(fixture.examples, { epoch: 0, positions: fixture.examples.map((_, i) => i) });
      expect(batch.count).toBeGreaterThan(0);
      const loss = tf.tidy(() => objective.loss(batch));
      expect(loss.rank).toBe(0);
      expect(Number.isFinite(loss.dataSync()[0]!)).toBe(true);
      loss.dispose();
      batch.dispose();
      objective.dispose();
    });

    test('evaluate emits the kinds asked for, and only kinds it declares', async () => {
      const { objective } = await create();
      expect(objective.emits.length).toBeGreaterThan(0);
      for (const kind of objective.emits) expect(METRIC_INPUT_KINDS).toContain(kind);
      if (objective.canEvaluate) {
        const seen = new Set<string>();
        let count = 0;
        for await (const part of objective.evaluate(undefined, { batchSize: 2, kinds: objective.emits })) {
          expect(Number.isFinite(part.lossSum)).toBe(true);
          count += part.count;
          for (const input of part.inputs) seen.add(input.kind);
        }
        expect(count).toBeGreaterThan(0);
        for (const kind of seen) expect(objective.emits).toContain(kind);
        const none = objective.evaluate(undefined, { batchSize: 2, kinds: [] });
        for await (const part of none) expect(part.inputs).toEqual([]);
      }
      objective.dispose();
    });

    test('saveState / loadState round trip the parameters and state', async () => {
      const { objective, dir } = await create();
      const before = objective.parameters().map(([name, v]) => [name, Array.from(v.dataSync())] as const);
      await objective.saveState?.(dir);
      for (const [, v] of objective.parameters()) v.assign(tf.zerosLike(v));
      const { objective: other } = await create();
      await other.loadState?.(dir);
      expect(other.parameters().map(([name]) => name)).toEqual(before.map(([name]) => name));
      objective.dispose();
      other.dispose();
    });
  });
}
