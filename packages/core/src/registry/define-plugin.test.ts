import 'reflect-metadata';
import { describe, expect, test } from '@jest/globals';
import { countingMetric, recordingTrainer } from '../testing/fake-plugins';
import { definePlugin } from './define-plugin';
import { PluginRegistry } from './plugin-registry';

describe('definePlugin', () => {
  test('builds a manifest the registry accepts, registering exactly what it provides', () => {
    const plugin = definePlugin({
      name: 'mmft-plugin-x',
      version: '2.3.4',
      description: 'x',
      provides: [countingMetric, recordingTrainer],
    });
    expect(plugin.meta).toEqual({ name: 'mmft-plugin-x', version: '2.3.4', description: 'x' });
    const registry = new PluginRegistry();
    registry.use(plugin, 'mmft-plugin-x');
    expect(registry.resolve('metric', 'count')).toBe(countingMetric);
    expect(registry.resolve('trainer', 'recording')).toBe(recordingTrainer);
    expect(registry.ownerOf('metric', 'count')).toBe('mmft-plugin-x');
  });

  test('has no side effect until the registry calls register', () => {
    const registry = new PluginRegistry();
    definePlugin({ name: 'p', version: '1.0.0', provides: [countingMetric] });
    expect(registry.list('metric')).toEqual([]);
  });
});
