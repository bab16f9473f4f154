import { describe, expect, test } from '@jest/globals';
import { walkSchema } from '@mmft/core';
import { cocoCaptionsConfigSchema, jsonlConfigSchema, vqaV2ConfigSchema } from './config';

describe('dataset configs', () => {
  test('a misspelt key is refused, not ignored', () => {
    expect(jsonlConfigSchema.safeParse({ path: 'a.jsonl', tsak: 'vqa' }).success).toBe(false);
    expect(cocoCaptionsConfigSchema.safeParse({ annotations: 'a.json', images: 'i', tsak: 'retrieval' }).success).toBe(false);
    expect(vqaV2ConfigSchema.safeParse({ questions: 'q', annotations: 'a', images: 'i', imageTemplte: 'x' }).success).toBe(false);
  });

  test('file and folder fields are marked as recipe paths (resolved from the recipe that sets them)', () => {
    const paths = (schema: Parameters<typeof walkSchema>[0], value: unknown) =>
      walkSchema(schema, value).paths.map((p) => p.segments.join('.'));
    expect(paths(jsonlConfigSchema, { path: 'a.jsonl', root: 'imgs', task: 'vqa' })).toEqual(['path', 'root']);
    expect(paths(cocoCaptionsConfigSchema, { annotations: 'a.json', images: 'i', task: 'caption' })).toEqual(['annotations', 'images']);
    expect(paths(vqaV2ConfigSchema, { questions: 'q', annotations: 'a', images: 'i', imageTemplate: 'x' })).toEqual([
      'questions',
      'annotations',
      'images',
    ]);
  });
});
