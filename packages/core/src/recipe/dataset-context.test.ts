import { describe, expect, test } from '@jest/globals';
import { z } from 'zod';
import type { DatasetProvider } from '../contracts/dataset';
import { isMmftError } from '../errors';
import { definePlugin } from '../registry/define-plugin';
import { PluginRegistry } from '../registry/plugin-registry';
import { datasetContext } from './dataset-context';
import { recipePath } from './paths';

const seen: Array<{ config: unknown; where?: string; baseDir: string; canOpen: boolean }> = [];

const files: DatasetProvider<{ path: string; n: number }> = {
  kind: 'dataset',
  id: 'files',
  description: 'records its config',
  configSchema: z.strictObject({ path: recipePath(z.string()), n: z.number().int().default(2) }),
  tasks: ['text'],
  async open(config, context) {
    seen.push({
      config,
      baseDir: context.baseDir,
      canOpen: context.open !== undefined,
      ...(context.where ? { where: context.where } : {}),
    });
    return { task: 'text', size: 0, iterate: async function* () {} };
  },
};

function registry(): PluginRegistry {
  const r = new PluginRegistry();
  r.use(definePlugin({ name: 'files-plugin', version: '0.0.0', description: 'a test dataset', provides: [files] }), 'files-plugin');
  return r;
}

async function failure(run: () => Promise<unknown>): Promise<{ code?: string; message: string }> {
  try {
    await run();
  } catch (error) {
    return { code: isMmftError(error) ? error.code : undefined, message: (error as Error).message };
  }
  throw new Error('expected a failure');
}

describe('datasetContext', () => {
  test('open: provider by type, defaults filled, relative paths from baseDir, the nested context named by where', async () => {
    const context = datasetContext(registry(), '/recipes', 'data.eval');
    expect(context.where).toBe('data.eval');
    seen.length = 0;
    await context.open!({ type: 'files', path: 'a/b.jsonl' }, 'data.eval.sources[0]');
    await context.open!({ type: 'files', path: '/abs.jsonl', n: 5 }, 'data.eval.sources[1]');
    expect(seen).toEqual([
      { config: { path: '/recipes/a/b.jsonl', n: 2 }, where: 'data.eval.sources[0]', baseDir: '/recipes', canOpen: true },
      { config: { path: '/abs.jsonl', n: 5 }, where: 'data.eval.sources[1]', baseDir: '/recipes', canOpen: true },
    ]);
  });

  test('an unknown type, a misspelt key and a bad value are errors naming the section path', async () => {
    const context = datasetContext(registry(), '/recipes');
    const unknown = await failure(() => context.open!({ type: 'nope' }, 'data.train.sources[2]'));
    expect(unknown.code).toBe('E_RECIPE');
    expect(unknown.message).toMatch(/^data\.train\.sources\[2\]\.type: .*nope/);
    const typo = await failure(() => context.open!({ type: 'files', path: 'x', m: 1 }, 'data.train.sources[0]'));
    expect(typo.code).toBe('E_RECIPE');
    expect(typo.message).toBe('data.train.sources[0].m: unknown key; did you mean "n"?');
    const bad = await failure(() => context.open!({ type: 'files', path: 'x', n: 'two' }, 'data.train.sources[0]'));
    expect(bad.code).toBe('E_CONFIG');
    expect(bad.message).toContain('data.train.sources[0] (dataset "files"): field "n"');
  });
});
