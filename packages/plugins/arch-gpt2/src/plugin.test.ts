import 'reflect-metadata';
import { describe, expect, test } from '@jest/globals';
import { parseConfig, PluginRegistry } from '@mmft/core';
import plugin from './index';
import { gpt2Provider } from './plugin';

describe('arch-gpt2', () => {
  test('registers as architecture "gpt2" for model_type gpt2', () => {
    const registry = new PluginRegistry();
    registry.use(plugin, plugin.meta.name);
    expect(registry.resolve('architecture', 'gpt2')).toBe(gpt2Provider);
    expect(gpt2Provider.family).toBe('language-model');
    expect(gpt2Provider.modelTypes).toEqual(['gpt2']);
    expect(parseConfig(gpt2Provider, { checkpoint: 'models/gpt2' })).toEqual({ checkpoint: 'models/gpt2', ignoreUnexpected: false });
  });
});
