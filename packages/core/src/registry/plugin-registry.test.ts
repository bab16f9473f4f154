import 'reflect-metadata';
import { describe, expect, test } from '@jest/globals';
import { z } from 'zod';
import { isMmftError, MmftError } from '../errors';
import { countingMetric, pluginOf, recordingTrainer } from '../testing/fake-plugins';
import { PluginRegistry } from './plugin-registry';
import { registerProviders } from './register-providers';

function errorOf(fn: () => unknown): MmftError {
  try {
    fn();
  } catch (error) {
    if (isMmftError(error)) return error;
    throw error;
  }
  throw new Error('expected an MmftError');
}

describe('PluginRegistry', () => {
  test('resolves registered providers by kind and id', () => {
    const registry = new PluginRegistry();
    registry.use(pluginOf('p', [countingMetric, recordingTrainer]), 'p');
    expect(registry.resolve('metric', 'count')).toBe(countingMetric);
    expect(registry.resolve('trainer', 'recording')).toBe(recordingTrainer);
    expect(registry.list('metric').map((m) => m.id)).toEqual(['count']);
    expect(registry.ownerOf('metric', 'count')).toBe('p');
  });

  test('unknown id lists what is available and suggests the closest', () => {
    const registry = new PluginRegistry();
    registry.use(pluginOf('p', [countingMetric]), 'p');
    const error = errorOf(() => registry.resolve('metric', 'cout'));
    expect(error.code).toBe('E_UNKNOWN_ID');
    expect(error.message).toBe('no plugin provides metric "cout"; available: count');
    expect(error.hint).toBe('did you mean "count"?');
    expect(errorOf(() => registry.resolve('trainer', 'x')).message).toContain('available: (none loaded)');
  });

  test('two plugins claiming one id name both packages', () => {
    const registry = new PluginRegistry();
    registry.use(pluginOf('first-pkg', [countingMetric]), 'first-pkg');
    const error = errorOf(() => registry.use(pluginOf('second-pkg', [countingMetric]), 'second-pkg'));
    expect(error.code).toBe('E_PLUGIN_DUPLICATE');
    expect(error.message).toContain('first-pkg');
    expect(error.message).toContain('second-pkg');
  });

  test('runs share no state: each registry has its own child container', () => {
    const a = new PluginRegistry();
    const b = new PluginRegistry();
    a.use(pluginOf('p', [countingMetric]), 'p');
    expect(b.list('metric')).toEqual([]);
    b.use(pluginOf('p', [countingMetric]), 'p'); // no duplicate error across runs
    expect(b.list('metric')).toHaveLength(1);
  });

  test('rejects invalid manifests with the reason', () => {
    const registry = new PluginRegistry();
    expect(errorOf(() => registry.use(null, 'x')).message).toContain('default export is null');
    expect(errorOf(() => registry.use({ meta: { name: 'x', version: '1' }, provides: [] }, 'x')).message).toContain(
      'register must be a function',
    );
    const badId = { ...countingMetric, id: 'Bad_Id' };
    expect(errorOf(() => registry.use(pluginOf('x', [badId]), 'x')).message).toContain('kebab-case');
    const badKind = { ...countingMetric, kind: 'optimizer' } as unknown as typeof countingMetric;
    expect(errorOf(() => registry.use(pluginOf('x', [badKind]), 'x')).message).toContain('kinds: architecture');
    expect(
      errorOf(() => registry.use({ meta: { name: 'x', version: '1' }, provides: [], register: () => undefined }, 'x')).message,
    ).toContain('plugin x: provides nothing');
    const noSchema = { ...countingMetric, configSchema: undefined } as unknown as typeof countingMetric;
    expect(errorOf(() => registry.use(pluginOf('x', [noSchema]), 'x')).message).toContain('no zod configSchema');
  });

  test('a manifest that does not match what register() registers is refused', () => {
    const registry = new PluginRegistry();
    const liar = {
      meta: { name: 'liar', version: '1.0.0' },
      provides: [countingMetric],
      register: (container: Parameters<typeof registerProviders>[0]) => registerProviders(container, [recordingTrainer]),
    };
    const error = errorOf(() => registry.use(liar, 'liar'));
    expect(error.code).toBe('E_PLUGIN_INVALID');
    expect(error.message).toContain('declares metric [count] but registered []');
  });

  test('configSchema is any zod type', () => {
    expect(z.object({}).safeParse({}).success).toBe(true);
  });
});
