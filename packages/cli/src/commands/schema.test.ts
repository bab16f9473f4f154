// `mmft schema` against a standard validator (ajv, JSON Schema 2020-12): every shipped recipe and
// bench experiment is valid, and typos that `mmft train` refuses are refused by the schema too,
// so an editor marks exactly what the CLI would.
import 'reflect-metadata';
import { describe, expect, test } from '@jest/globals';
import * as fs from 'node:fs';
import * as path from 'node:path';
import Ajv2020 from 'ajv/dist/2020';
import { parseRecipeText } from '@mmft/core';
import { runCliForTest } from '../testing';

const ROOT = path.resolve(__dirname, '..', '..', '..', '..');
const RECIPE_DIRS = ['recipes', 'packages/benchmarks/experiments'];

let validate: ((value: unknown) => boolean) & { errors?: unknown };

async function schemaValidator(): Promise<typeof validate> {
  if (validate) return validate;
  const run = await runCliForTest(['schema']);
  expect(run.code).toBe(0);
  // Ajv's default strictness: an unknown keyword or format in the schema is an error.
  validate = new Ajv2020({ allErrors: true }).compile(JSON.parse(run.stdout));
  return validate;
}

/** A recipe file's YAML; experiments keep their `bench:` block apart (benchmarks' own schema). */
function recipeOf(file: string): Record<string, unknown> {
  const { bench: _bench, ...recipe } = parseRecipeText(fs.readFileSync(file, 'utf8'), file).value;
  return recipe;
}

const shipped = RECIPE_DIRS.flatMap((dir) =>
  fs
    .readdirSync(path.join(ROOT, dir))
    .filter((f) => /\.ya?ml$/.test(f))
    .map((f) => path.join(dir, f)),
);

describe('mmft schema', () => {
  test('finds the shipped recipes', () => {
    expect(shipped.length).toBeGreaterThanOrEqual(10);
  });

  test.each(shipped)('%s is valid against the emitted schema', async (file) => {
    const check = await schemaValidator();
    const valid = check(recipeOf(path.join(ROOT, file)));
    expect(valid ? [] : check.errors).toEqual([]);
  });

  const base = (): Record<string, any> => recipeOf(path.join(ROOT, 'recipes/clip-shapes-finetune.yaml'));
  const typos: Array<[string, (r: Record<string, any>) => void]> = [
    ['data.train.domian', (r) => (r.data.train.domian = 'A')],
    ['data.eval.nn', (r) => (r.data.eval.nn = 3)],
    ['model.checkpiont', (r) => (r.model.checkpiont = 'x')],
    ['peft.lora_alph', (r) => (r.peft = { method: 'lora', r: 8, lora_alph: 16 })],
    ['train.lerning_rate', (r) => (r.train.lerning_rate = 1)],
    ['metrics[0].kss', (r) => (r.metrics[0].kss = [1])],
    ['loss.temprature', (r) => (r.loss.temprature = 1)],
    ['backend.prefr', (r) => (r.backend.prefr = ['cpu'])],
    ['top-level trian', (r) => (r.trian = {})],
    ['unknown provider', (r) => (r.loss.type = 'clipp')],
    ['a wrong value type', (r) => (r.train.max_steps = 'many')],
    ['a section without type in a recipe that extends nothing', (r) => delete r.train.type],
  ];

  test.each(typos)('a planted %s is refused', async (_name, plant) => {
    const check = await schemaValidator();
    const recipe = base();
    expect(check(recipe)).toBe(true);
    plant(recipe);
    expect(check(recipe)).toBe(false);
  });

  test('a recipe that extends another may leave out type, but not misspell a key', async () => {
    const check = await schemaValidator();
    expect(check({ extends: './base.yaml', train: { lr: 0.1 }, data: { eval: { domain: 'A' } } })).toBe(true);
    expect(check({ extends: './base.yaml', train: { lrr: 0.1 } })).toBe(false);
    expect(check({ extends: './base.yaml', data: { eval: { domian: 'A' } } })).toBe(false);
  });
});
