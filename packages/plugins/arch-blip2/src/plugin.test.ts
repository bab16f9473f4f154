import 'reflect-metadata';
import { describe, expect, test } from '@jest/globals';
import { parseConfig, PluginRegistry } from '@mmft/core';
import plugin from './index';
import { blip2Provider } from './plugin';

describe('arch-blip2', () => {
  test('registers as architecture "blip2" for model_type "blip-2"; a checkpoint section parses', () => {
    const registry = new PluginRegistry();
    registry.use(plugin, plugin.meta.name);
    expect(registry.resolve('architecture', 'blip2')).toBe(blip2Provider);
    expect(registry.resolveModelType('blip-2')).toBe(blip2Provider);
    expect(blip2Provider.family).toBe('vision-to-llm');
    expect(parseConfig(blip2Provider, { checkpoint: 'x' })).toMatchObject({ checkpoint: 'x', ignoreUnexpected: false });
  });
});
