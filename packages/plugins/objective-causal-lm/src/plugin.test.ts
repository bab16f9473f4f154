import 'reflect-metadata';
import { describe, expect, test } from '@jest/globals';
import { parseConfig, PluginRegistry } from '@mmft/core';
import plugin from './index';
import { causalLmProvider } from './plugin';

describe('objective-causal-lm', () => {
  test('registers as objective "causal-lm", and an empty section parses to the defaults', () => {
    const registry = new PluginRegistry();
    registry.use(plugin, plugin.meta.name);
    expect(registry.resolve('objective', 'causal-lm')).toBe(causalLmProvider);
    expect(parseConfig(causalLmProvider, {})).toEqual({
      max_length: 512,
      train_on_prompt: false,
      template: 'auto',
      generation: { max_new_tokens: 32 },
    });
  });
});
