import { describe, expect, test } from '@jest/globals';
import { isMmftError, parseConfig, PluginRegistry } from '@mmft/core';
import { collect, fakeContext, opened } from './fake-sources.test-helper';
import plugin from './index';
import { mixProvider } from './plugin';

/** The error `run` throws (or rejects with), for its code and message. */
async function failure(run: () => unknown): Promise<{ code?: string; message: string }> {
  try {
    await run();
  } catch (error) {
    return { code: isMmftError(error) ? error.code : undefined, message: (error as Error).message };
  }
  throw new Error('expected a failure');
}

const two = [{ type: 'fake' }, { type: 'fake', prefix: 'y' }];

describe('data-mix: the provider and its section', () => {
  test('registers as dataset "mix"; a section with sources parses with strategy concat and seed 42', () => {
    const registry = new PluginRegistry();
    registry.use(plugin, plugin.meta.name);
    expect(registry.resolve('dataset', 'mix')).toBe(mixProvider);
    expect(parseConfig(mixProvider, { sources: two })).toEqual({ sources: two, strategy: 'concat', seed: 42 });
  });

  test.each([
    [{ sources: two, probabilities: [0.5, 0.5] }, 'field "probabilities": strategy concat takes no probabilities'],
    [{ sources: two, strategy: 'interleave_under', probabilities: [1] }, 'field "probabilities": has 1 entries for 2 sources'],
    [{ sources: two, strategy: 'interleave_under', probabilities: [0.5, 0.6] }, 'field "probabilities": must sum to 1, they sum to 1.1'],
    [{ sources: two, strategy: 'interleave_over', probabilities: [1, 0] }, 'field "probabilities[1]": is 0: interleave_over'],
    [{ sources: two, strategy: 'zip' }, 'field "strategy"'],
    [{ sources: [] }, 'field "sources"'],
    [{ sources: [{ path: 'a.jsonl' }] }, 'field "sources[0].type"'],
  ])('%j is refused naming the field', async (section, expected) => {
    const error = await failure(() => parseConfig(mixProvider, section));
    expect(error.code).toBe('E_CONFIG');
    expect(error.message).toContain(expected);
  });

  test('a source of an unknown type is an E_RECIPE error naming the source and the known types', async () => {
    const config = parseConfig(mixProvider, { sources: [{ type: 'fake' }, { type: 'nope' }] });
    const error = await failure(() => mixProvider.open(config, fakeContext()));
    expect(error.code).toBe('E_RECIPE');
    expect(error.message).toContain('data.eval.sources[1].type');
    expect(error.message).toContain('nope');
  });

  test("a source's own fields are checked by its provider's schema: unknown key and bad value named with the path", async () => {
    const typo = parseConfig(mixProvider, { sources: [{ type: 'fake', prefx: 'a' }] });
    const unknown = await failure(() => mixProvider.open(typo, fakeContext()));
    expect(unknown.code).toBe('E_RECIPE');
    expect(unknown.message).toContain('data.eval.sources[0].prefx: unknown key; did you mean "prefix"?');
    const bad = parseConfig(mixProvider, { sources: [{ type: 'fake' }, { type: 'fake', n: 'three' }] });
    const invalid = await failure(() => mixProvider.open(bad, fakeContext()));
    expect(invalid.code).toBe('E_CONFIG');
    expect(invalid.message).toContain('data.eval.sources[1] (dataset "fake"): field "n"');
  });

  test('relative paths in a source resolve from the base folder; absolute ones stay', async () => {
    const config = parseConfig(mixProvider, {
      sources: [
        { type: 'fake', path: 'data/a.jsonl' },
        { type: 'fake', path: '/abs/b.jsonl' },
      ],
    });
    const before = opened.length;
    await mixProvider.open(config, fakeContext('/recipes'));
    expect(opened.slice(before).map((o) => o.config.path)).toEqual(['/recipes/data/a.jsonl', '/abs/b.jsonl']);
  });

  test('a mix may hold a mix; messages name the nested source', async () => {
    const inner = { type: 'mix', sources: [{ type: 'fake', n: 1, prefix: 'i' }, { type: 'nope' }] };
    const bad = parseConfig(mixProvider, { sources: [{ type: 'fake', n: 1 }, inner] });
    expect((await failure(() => mixProvider.open(bad, fakeContext()))).message).toContain('data.eval.sources[1].sources[1].type');
    const good = parseConfig(mixProvider, {
      sources: [
        { type: 'fake', n: 1 },
        { ...inner, sources: [inner.sources[0]] },
      ],
    });
    expect((await collect(await mixProvider.open(good, fakeContext()))).map((e) => e.id)).toEqual(['x0', 'i0']);
  });

  test('a context without open is a clear E_UNSUPPORTED error saying how to fix it', async () => {
    const error = await failure(() => mixProvider.open(parseConfig(mixProvider, { sources: two }), { baseDir: '.' }));
    expect(error.code).toBe('E_UNSUPPORTED');
    expect(error.message).toContain('dataset "mix" opens its sources through the registry');
  });
});
