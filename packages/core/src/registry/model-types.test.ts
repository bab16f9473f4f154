import '@tensorflow/tfjs-backend-cpu';
import { describe, expect, test } from '@jest/globals';
import { mkdtemp, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { z } from 'zod';
import type { ArchitectureContext, ArchitectureProvider, VisionLanguageModel } from '../contracts/architecture';
import { AutoModel } from '../hf/auto-model';
import { Linear } from '../nn/linear';
import { Module } from '../nn/module';
import { pluginOf } from '../testing/fake-plugins';
import { architectureContext, resolveModelType } from './model-types';
import { PluginRegistry } from './plugin-registry';

type Config = Record<string, unknown>;

class Container extends Module<[], never> {
  forward(): never {
    throw new Error('not used');
  }
}

function wrap(modelType: string, root: Module, config: Config, towers: Record<string, string[]>): VisionLanguageModel {
  return {
    modelType,
    family: 'vision-encoder',
    root,
    config,
    processor: { towers },
    forward: () => ({}),
    save: async () => undefined,
    dispose: () => root.dispose(),
  };
}

/**
 * A vision encoder: one Linear named as HF names a vision tower's layers. Its recipe section
 * carries the HF config under `config:`, as arch-clip's does.
 */
const fakeVision: ArchitectureProvider<{ config: Config }> = {
  kind: 'architecture',
  id: 'fake-vision',
  description: 'test vision encoder',
  family: 'vision-encoder',
  modelTypes: ['fake_vision'],
  configSchema: z.object({ config: z.looseObject({}) }),
  async fromConfig({ config }) {
    const root = new Container();
    root.registerModule('encoder', new Linear(4, Number(config.hidden_size ?? 3), { seed: 1 }));
    return wrap('fake_vision', root, config, { vision: ['encoder.**'] });
  },
  fromPretrained: async () => Promise.reject(new Error('not used')),
};

/**
 * A bridge as LLaVA is one: its vision tower comes from `vision_config` through whichever plugin
 * provides that model_type (it never imports one), and the projector is its own.
 */
const fakeBridge: ArchitectureProvider<{ config: Config }> = {
  kind: 'architecture',
  id: 'fake-bridge',
  description: 'test bridge',
  family: 'vision-to-llm',
  modelTypes: ['fake_llava'],
  configSchema: z.object({ config: z.looseObject({}) }),
  async fromConfig({ config }, context?: ArchitectureContext) {
    const visionConfig = config.vision_config as Config;
    const vision = await context!.resolveModelType(String(visionConfig.model_type)).fromConfig({ config: visionConfig }, context);
    const root = new Container();
    root.registerModule('vision_tower', vision.root);
    root.registerModule('multi_modal_projector', new Linear(Number(visionConfig.hidden_size), 2, { seed: 2 }));
    const towers = { vision: vision.processor.towers.vision!.map((g) => `vision_tower.${g}`), projector: ['multi_modal_projector.**'] };
    return wrap('fake_llava', root, config, towers);
  },
  async fromPretrained(dir, _options, context) {
    return this.fromConfig({ config: { vision_config: { model_type: 'fake_vision', hidden_size: 5 }, dir } }, context);
  },
};

describe('model_type → architecture (registry.resolveModelType)', () => {
  test('finds the provider that declares the type; an unknown type lists the known ones', () => {
    const registry = new PluginRegistry();
    registry.use(pluginOf('fakes', [fakeVision, fakeBridge]), 'fakes');
    expect(registry.resolveModelType('fake_llava')).toBe(fakeBridge);
    expect(() => registry.resolveModelType('opt', { source: 'm/config.json' })).toThrow(
      'm/config.json: model_type "opt" has no architecture plugin; known: fake_llava, fake_vision',
    );
    expect(() => resolveModelType([], 'clip')).toThrow(/known: \(none loaded\)/);
  });

  test('a bridge builds its vision tower from vision_config through the context, without importing the plugin', async () => {
    const registry = new PluginRegistry();
    registry.use(pluginOf('fakes', [fakeVision, fakeBridge]), 'fakes');
    const model = await registry
      .resolveModelType('fake_llava')
      .fromConfig({ config: { vision_config: { model_type: 'fake_vision', hidden_size: 3 } } }, architectureContext(registry));
    expect(model.root.namedParameters().map(([n, v]) => `${n} [${v.shape.join(',')}]`)).toEqual([
      'vision_tower.encoder.weight [3,4]',
      'vision_tower.encoder.bias [3]',
      'multi_modal_projector.weight [2,3]',
      'multi_modal_projector.bias [2]',
    ]);
    expect(model.processor.towers).toEqual({ vision: ['vision_tower.encoder.**'], projector: ['multi_modal_projector.**'] });
    model.dispose();
  });

  test('AutoModel.fromPretrained dispatches on config.json model_type over the given plugins', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'mmft-auto-'));
    await writeFile(join(dir, 'config.json'), JSON.stringify({ model_type: 'fake_llava' }));
    const model = await AutoModel.fromPretrained(dir, { plugins: [pluginOf('fakes', [fakeVision, fakeBridge])] });
    expect(model.modelType).toBe('fake_llava');
    expect(model.root.getModule('vision_tower').namedParameters()[0]![1].shape).toEqual([5, 4]);
    model.dispose();
    await expect(AutoModel.fromPretrained(dir, { plugins: [pluginOf('vision-only', [fakeVision])] })).rejects.toThrow(
      `${join(dir, 'config.json')}: model_type "fake_llava" has no architecture plugin; known: fake_vision`,
    );
  });
});
