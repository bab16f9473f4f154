// loadModel hands architectures the run's registry as an ArchitectureContext, so a bridge model
// (LLaVA, BLIP-2) named in a recipe can build its towers from sub-configs through other plugins.
import '@tensorflow/tfjs-backend-cpu';
import * as tf from '@tensorflow/tfjs-core';
import { beforeAll, describe, expect, test } from '@jest/globals';
import { z } from 'zod';
import type { AnyProvider, ArchitectureProvider, RunContext } from '@mmft/core';
import { recordingReporter, registry, tinyArchitecture } from '../fixtures.test-helper';
import { loadModel } from './load-model';

/** A bridge that owns no weights of its own: its model is the tower it builds through the context. */
const bridge: ArchitectureProvider<{ vision: { seed: number } }> = {
  kind: 'architecture',
  id: 'test-bridge',
  description: 'test bridge composing tiny-dual',
  family: 'dual-encoder',
  modelTypes: ['test-bridge'],
  configSchema: z.object({ vision: z.object({ seed: z.number() }).describe('tower config') }),
  async fromConfig(config, context) {
    if (!context) throw new Error('no ArchitectureContext given');
    return context.resolveModelType('tiny-dual').fromConfig(config.vision, context);
  },
  fromPretrained: () => Promise.reject(new Error('not used')),
};

beforeAll(async () => {
  await tf.setBackend('cpu');
});

describe('loadModel', () => {
  test('a bridge architecture builds its tower through the run registry', async () => {
    const context = {
      recipe: { model: { type: 'test-bridge', vision: { seed: 3 } } },
      baseDir: process.cwd(),
      outputDir: process.cwd(),
      resolver: registry([bridge as AnyProvider]),
      reporter: recordingReporter(),
    } as unknown as RunContext;
    const { model } = await loadModel(context);
    const direct = await tinyArchitecture.fromConfig({ seed: 3 });
    try {
      const names = [...model.root.stateDict().keys()];
      expect(names).toEqual([...direct.root.stateDict().keys()]);
      const first = names[0]!;
      expect(Array.from(model.root.stateDict().get(first)!.dataSync())).toEqual(Array.from(direct.root.stateDict().get(first)!.dataSync()));
    } finally {
      model.dispose();
      direct.dispose();
    }
  });

  test("a PEFT method without its own seed gets the recipe's; one given in peft: wins; a schema without seed gets none", async () => {
    const seen: Array<Record<string, unknown>> = [];
    const method = (id: string, schema: z.ZodType) =>
      ({
        kind: 'peft',
        id,
        description: 'records its config',
        peftType: id.toUpperCase(),
        configSchema: schema,
        apply(_root: unknown, config: Record<string, unknown>) {
          seen.push(config);
          return { trainableParameters: () => [] };
        },
      }) as unknown as AnyProvider;
    const seeded = method(
      'seeded',
      z.strictObject({ r: z.number().optional(), seed: z.number().optional(), task_type: z.unknown().optional() }),
    );
    const unseeded = method('unseeded', z.strictObject({ r: z.number().optional(), task_type: z.unknown().optional() }));
    const run = async (peft: Record<string, unknown>) => {
      const context = {
        recipe: { seed: 11, model: { type: 'tiny-dual', seed: 1 }, peft },
        baseDir: process.cwd(),
        outputDir: process.cwd(),
        resolver: registry([seeded, unseeded]),
        reporter: recordingReporter(),
      } as unknown as RunContext;
      (await loadModel(context)).model.dispose();
      return seen.at(-1)!;
    };
    expect((await run({ method: 'seeded', r: 2 })).seed).toBe(11);
    expect((await run({ method: 'seeded', r: 2, seed: 5 })).seed).toBe(5);
    expect('seed' in (await run({ method: 'unseeded', r: 2 }))).toBe(false);
  });
});
