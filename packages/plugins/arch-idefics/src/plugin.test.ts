import 'reflect-metadata';
import '@tensorflow/tfjs-backend-cpu';
import { describe, expect, test } from '@jest/globals';
import { parseConfig, PluginRegistry } from '@mmft/core';
import { globToRegExp } from '@mmft/core/nn';
import plugin from './index';
import { IdeficsForVisionText2Text } from './idefics-for-vision-text2text';
import { ideficsProvider } from './plugin';
import { tinyIdeficsConfig, tinyIdeficsContext } from './tiny-idefics.test-helper';

describe('arch-idefics', () => {
  test('registers as architecture "idefics" for model_type idefics; a section needs checkpoint or config', () => {
    const registry = new PluginRegistry();
    registry.use(plugin, plugin.meta.name);
    expect(registry.resolve('architecture', 'idefics')).toBe(ideficsProvider);
    expect(ideficsProvider.modelTypes).toEqual(['idefics']);
    expect(ideficsProvider.family).toBe('vision-to-llm');
    expect(() => parseConfig(ideficsProvider, {})).toThrow(/exactly one of checkpoint/);
    expect(() => parseConfig(ideficsProvider, { config: { alpha_type: 'matrix' } })).toThrow(/alpha_type/);
  });

  test('a recipe section builds the model through the registry; the processor keeps one <image> per image', async () => {
    const model = await ideficsProvider.fromConfig(
      parseConfig(ideficsProvider, { config: tinyIdeficsConfig(), seed: 1 }),
      tinyIdeficsContext(),
    );
    expect(model).toBeInstanceOf(IdeficsForVisionText2Text);
    expect(model.processor.imageTokens).toEqual({ tokenId: 5, count: 1, placement: 'placeholder' });
    expect(model.processor.imageProcessing?.size).toBe(4);
    // Every parameter sits in exactly one tower.
    const towers = model.processor.towers;
    expect(Object.keys(towers).sort()).toEqual(['language', 'projector', 'vision']);
    const patterns = Object.entries(towers).flatMap(([tower, globs]) => globs.map((g) => [tower, globToRegExp(g)] as const));
    for (const name of model.root.stateDict().keys()) expect([name, patterns.filter(([, re]) => re.test(name)).length]).toEqual([name, 1]);
    model.dispose();
    await expect(ideficsProvider.fromConfig(parseConfig(ideficsProvider, { config: tinyIdeficsConfig() }), undefined)).rejects.toThrow(
      /through the plugin registry/,
    );
  });
});
