import 'reflect-metadata';
import { describe, expect, test } from '@jest/globals';
import { parseConfig, PluginRegistry } from '@mmft/core';
import plugin from './index';
import { blip2Provider } from './plugin';

describe('arch-blip2', () => {
  test('registers as architecture "blip2", and an empty section parses', () => {
    const registry = new PluginRegistry();
    registry.use(plugin, plugin.meta.name);
    expect(registry.resolve('architecture', 'blip2')).toBe(blip2Provider);
    expect(parseConfig(blip2Provider, {})).toEqual({});
  });
});
