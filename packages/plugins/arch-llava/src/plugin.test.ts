import 'reflect-metadata';
import { describe, expect, test } from '@jest/globals';
import { parseConfig, PluginRegistry } from '@mmft/core';
import plugin from './index';
import { llavaProvider } from './plugin';

describe('arch-llava', () => {
  test('registers as architecture "llava", and an empty section parses', () => {
    const registry = new PluginRegistry();
    registry.use(plugin, plugin.meta.name);
    expect(registry.resolve('architecture', 'llava')).toBe(llavaProvider);
    expect(parseConfig(llavaProvider, {})).toEqual({});
  });
});
