import 'reflect-metadata';
import { describe, expect, test } from '@jest/globals';
import { parseConfig, PluginRegistry } from '@mmft/core';
import plugin from './index';
import { optProvider } from './plugin';

describe('arch-opt', () => {
  test('registers as architecture "opt", and an empty section parses', () => {
    const registry = new PluginRegistry();
    registry.use(plugin, plugin.meta.name);
    expect(registry.resolve('architecture', 'opt')).toBe(optProvider);
    expect(parseConfig(optProvider, {})).toEqual({});
  });
});
