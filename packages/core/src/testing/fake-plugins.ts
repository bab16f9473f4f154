// Small, real plugin objects for tests of the registry, recipes and the CLI: a metric counting
// items and a trainer that records what it was given. Exported so other packages' tests use them.
import { z } from 'zod';
import type { MetricProvider } from '../contracts/metric';
import type { TextInput } from '../contracts/metric-input';
import type { MmftPlugin } from '../contracts/plugin';
import type { AnyProvider } from '../contracts/kinds';
import type { TrainerProvider } from '../contracts/trainer';
import { registerProviders } from '../registry/register-providers';

/** A metric that counts text inputs; config `{ scale }` multiplies the count. */
export const countingMetric: MetricProvider<{ scale: number }, TextInput> = {
  kind: 'metric',
  id: 'count',
  consumes: 'text',
  description: 'number of updated items times scale',
  configSchema: z.object({ scale: z.number().positive().default(1).describe('multiplier') }),
  scores: { count: 'higher' },
  create: ({ scale }) => {
    let n = 0;
    return {
      reset: () => void (n = 0),
      update: (batch) => void (n += Array.isArray(batch) ? batch.length : 1),
      compute: () => ({ scores: { count: n * scale } }),
    };
  },
};

/** A trainer that runs `steps` no-op steps and reports them. */
export const recordingTrainer: TrainerProvider<{ steps: number; lr: number }> = {
  kind: 'trainer',
  id: 'recording',
  description: 'test trainer: records its config and reports steps',
  configSchema: z.object({
    steps: z.number().int().positive().describe('number of steps'),
    lr: z.number().positive().default(1e-4).describe('learning rate'),
  }),
  run: async (config, context) => {
    for (let step = 1; step <= config.steps; step++)
      context.reporter.progress({ step, total: config.steps, samples: step, values: { lr: config.lr } });
    return { steps: config.steps, outputDir: context.outputDir, metrics: { lr: config.lr } };
  },
};

/** Build a plugin object from providers (tests). */
export function pluginOf(name: string, providers: readonly AnyProvider[]): MmftPlugin {
  return { meta: { name, version: '0.0.0' }, provides: providers, register: (container) => registerProviders(container, providers) };
}
