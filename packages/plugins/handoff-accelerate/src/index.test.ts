import { describe, expect, test } from '@jest/globals';
import { PluginRegistry } from '@mmft/core';
import plugin from './index';

describe('@mmft/handoff-accelerate', () => {
  test('registers handoff target accelerate with a strict config', () => {
    const registry = new PluginRegistry();
    registry.use(plugin, '@mmft/handoff-accelerate');
    const target = registry.resolve('handoff', 'accelerate');
    expect([target.id, target.engine]).toEqual(['accelerate', 'Hugging Face accelerate']);
    expect(target.configSchema.safeParse({ offload: true }).success).toBe(false);
    expect(target.configSchema.parse({})).toEqual({ deepspeed_offload: false });
  });
});
