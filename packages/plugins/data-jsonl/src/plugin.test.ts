import * as fs from 'node:fs';
import * as path from 'node:path';
import { describe, expect, test } from '@jest/globals';
import { PluginRegistry } from '@mmft/core';
import plugin, { jsonlDataset, MESSAGES } from './index';
import { collect, FIXTURES } from './testing/fixtures';

describe('@mmft/data-jsonl plugin', () => {
  test('registers its dataset providers and opens a recipe section', async () => {
    const registry = new PluginRegistry();
    registry.use(plugin, '@mmft/data-jsonl');
    const jsonl = registry.resolve('dataset', 'jsonl');
    const data = await jsonl.open({ path: 'vqa.jsonl' }, { baseDir: FIXTURES });
    expect(data.task).toBe('vqa');
    expect((await collect(data, { shuffle: true, seed: 3 })).map((e) => e.source?.line).sort()).toEqual([1, 2]);
    expect(registry.resolve('dataset', 'coco-captions').tasks).toEqual(['caption', 'retrieval']);
    expect(registry.resolve('dataset', 'vqa-v2').tasks).toEqual(['vqa']);
  });

  test('a bad recipe section names the field', async () => {
    await expect(jsonlDataset.open({ path: 3 } as never, { baseDir: FIXTURES })).rejects.toThrow('dataset "jsonl": field "path"');
  });

  test('every config field carries a description', () => {
    for (const provider of plugin.provides) {
      const shape = (provider.configSchema as unknown as { shape: Record<string, { description?: string }> }).shape;
      for (const [field, schema] of Object.entries(shape))
        expect([provider.id, field, typeof schema.description]).toEqual([provider.id, field, 'string']);
    }
  });

  test('docs/data.md documents every validator message code', () => {
    const docs = fs.readFileSync(path.resolve(__dirname, '../../../../docs/data.md'), 'utf8');
    for (const code of Object.keys(MESSAGES)) expect([code, docs.includes(`\`${code}\``)]).toEqual([code, true]);
  });
});
