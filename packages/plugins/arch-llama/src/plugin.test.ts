import 'reflect-metadata';
import { describe, expect, test } from '@jest/globals';
import { parseConfig, PluginRegistry } from '@mmft/core';
import plugin from './index';
import { llamaProvider } from './plugin';

describe('arch-llama', () => {
  test('registers as architecture "llama", and an empty section parses', () => {
    const registry = new PluginRegistry();
    registry.use(plugin, plugin.meta.name);
    expect(registry.resolve('architecture', 'llama')).toBe(llamaProvider);
    expect(parseConfig(llamaProvider, {})).toEqual({});
  });
});
