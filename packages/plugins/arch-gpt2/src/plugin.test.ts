import 'reflect-metadata';
import { describe, expect, test } from '@jest/globals';
import { parseConfig, PluginRegistry } from '@mmft/core';
import plugin from './index';
import { gpt2Provider } from './plugin';

describe('arch-gpt2', () => {
  test('registers as architecture "gpt2", and an empty section parses', () => {
    const registry = new PluginRegistry();
    registry.use(plugin, plugin.meta.name);
    expect(registry.resolve('architecture', 'gpt2')).toBe(gpt2Provider);
    expect(parseConfig(gpt2Provider, {})).toEqual({});
  });
});
