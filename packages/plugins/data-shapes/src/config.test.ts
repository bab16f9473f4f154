import { describe, expect, test } from '@jest/globals';
import { shapesConfigSchema } from './config';

describe('shapes config', () => {
  test('a misspelt key is refused instead of silently keeping the default (domian: B must not train on A)', () => {
    const parsed = shapesConfigSchema.safeParse({ domian: 'B' });
    expect(parsed.success).toBe(false);
    expect(parsed.error?.issues[0]).toMatchObject({ code: 'unrecognized_keys', keys: ['domian'] });
  });
});
