import 'reflect-metadata';
import { describe, expect, test } from '@jest/globals';
import { parseConfig, PluginRegistry } from '@mmft/core';
import plugin from './index';
import { blip2Stage1Provider } from './plugin';

describe('objective-blip2-stage1', () => {
  test('registers as objective "blip2-stage1"; an empty section takes LAVIS defaults', () => {
    const registry = new PluginRegistry();
    registry.use(plugin, plugin.meta.name);
    expect(registry.resolve('objective', 'blip2-stage1')).toBe(blip2Stage1Provider);
    expect(parseConfig(blip2Stage1Provider, {})).toEqual({
      max_length: 32,
      label_smoothing: 0.1,
      weights: { itc: 1, itm: 1, itg: 1 },
      pre_caption: false,
      prompt: '',
    });
    expect(() => parseConfig(blip2Stage1Provider, { weight: {} })).toThrow();
  });
});
