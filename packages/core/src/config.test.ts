import { describe, expect, test } from '@jest/globals';
import { z } from 'zod';
import { parseConfig } from './config';
import { isMmftError, type MmftError } from './errors';

const schema = z.object({
  r: z.number().int().positive().default(8).describe('rank'),
  target_modules: z.array(z.string()).optional().describe('module names'),
  nested: z
    .strictObject({ alpha: z.number().default(1).describe('scale') })
    .default({ alpha: 1 })
    .describe('nested'),
});
const strict = z.strictObject({ domain: z.string().default('A').describe('domain'), lang: z.string().default('en').describe('language') });

function failure(fn: () => unknown): MmftError {
  try {
    fn();
  } catch (error) {
    if (isMmftError(error)) return error;
    throw new Error(`expected an MmftError, got ${String(error)}`, { cause: error });
  }
  throw new Error('expected an MmftError');
}

describe('parseConfig', () => {
  test('fills defaults; undefined reads as an empty config', () => {
    expect(parseConfig(schema, { r: 4 })).toEqual({ r: 4, nested: { alpha: 1 } });
    expect(parseConfig(schema, undefined)).toEqual({ r: 8, nested: { alpha: 1 } });
  });

  test('a wrong field is an E_CONFIG naming where, the field path and the value, never a ZodError', () => {
    const error = failure(() => parseConfig(schema, { r: 'x', nested: { alpha: 'big' } }, 'recipe.yaml peft'));
    expect(error.code).toBe('E_CONFIG');
    expect(error.message).toBe('recipe.yaml peft: field "r": expected number, got "x"; field "nested.alpha": expected number, got "big"');
    expect(error.hint).toMatch(/mmft schema/);
    expect(error).not.toBeInstanceOf(z.ZodError);
    expect(error.cause).toBeInstanceOf(z.ZodError);
    expect(failure(() => parseConfig(schema, { r: 0 }, 'x')).message).toMatch(/^x: field "r": Too small/);
    expect(failure(() => parseConfig(schema, 3, 'x')).message).toBe('x: expected object, got 3');
  });

  test('an unknown key of a strict schema says which key was meant', () => {
    expect(failure(() => parseConfig(strict, { domian: 'B' }, 'data')).message).toBe(
      'data: unknown field "domian"; did you mean "domain"?',
    );
    expect(failure(() => parseConfig(schema, { nested: { alpah: 2 } }, 'p')).message).toBe(
      'p: unknown field "nested.alpah"; did you mean "alpha"?',
    );
    expect(failure(() => parseConfig(strict, { zzz: 1 }, 'data')).message).toBe('data: unknown field "zzz"');
  });

  test('a provider names itself as kind "id" and lends its schema', () => {
    const provider = { kind: 'loss', id: 'shapes', description: 'test', configSchema: strict } as const;
    expect(parseConfig(provider, {})).toEqual({ domain: 'A', lang: 'en' });
    expect(failure(() => parseConfig(provider, { lang: 1 })).message).toBe('loss "shapes": field "lang": expected string, got 1');
  });
});
