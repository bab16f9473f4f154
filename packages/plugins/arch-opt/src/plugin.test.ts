import 'reflect-metadata';
import { describe, expect, test } from '@jest/globals';
import { parseConfig, PluginRegistry } from '@mmft/core';
import plugin from './index';
import { optProvider } from './plugin';

describe('arch-opt', () => {
  test('registers as architecture "opt" of family language-model for model_type opt', () => {
    const registry = new PluginRegistry();
    registry.use(plugin, plugin.meta.name);
    expect(registry.resolve('architecture', 'opt')).toBe(optProvider);
    expect(optProvider.family).toBe('language-model');
    expect(optProvider.modelTypes).toEqual(['opt']);
  });

  test('the recipe section needs a checkpoint or a config', () => {
    expect(() => parseConfig(optProvider, {})).toThrow(/exactly one of checkpoint/);
    expect(parseConfig(optProvider, { checkpoint: '/models/opt' })).toEqual({ checkpoint: '/models/opt', ignoreUnexpected: false });
  });
});
