import { describe, expect, test } from '@jest/globals';
import { PluginRegistry } from '@mmft/core';
import plugin from './index';

describe('@mmft/handoff-swift', () => {
  test('registers handoff target swift (engine ms-swift) with a strict config', () => {
    const registry = new PluginRegistry();
    registry.use(plugin, '@mmft/handoff-swift');
    const target = registry.resolve('handoff', 'swift');
    expect([target.id, target.engine]).toEqual(['swift', 'ms-swift']);
    expect(target.configSchema.safeParse({ model_typ: 'x' }).success).toBe(false);
  });
});
