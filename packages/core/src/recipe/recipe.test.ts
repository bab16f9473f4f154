import 'reflect-metadata';
import { describe, expect, test } from '@jest/globals';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { PluginRegistry } from '../registry/plugin-registry';
import { countingMetric, pluginOf, recordingTrainer } from '../testing/fake-plugins';
import { parseOverride } from './overrides';
import { readRecipe } from './read-recipe';
import { recipeJsonSchema } from './json-schema';
import { validateRecipe } from './validate-recipe';

function writeFiles(files: Record<string, string>): string {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'mmft-recipe-'));
  for (const [name, text] of Object.entries(files)) fs.writeFileSync(path.join(dir, name), text);
  return dir;
}

function registry(): PluginRegistry {
  const r = new PluginRegistry();
  r.use(pluginOf('@test/plugins', [countingMetric, recordingTrainer]), '@test/plugins');
  return r;
}

const BASE = ['name: base', 'seed: 7', 'train:', '  type: recording', '  steps: 10', '  lr: 0.001', 'metrics:', '  - type: count', ''].join(
  '\n',
);

describe('recipes', () => {
  test('validates sections with their provider schemas and fills defaults', () => {
    const dir = writeFiles({ 'r.yaml': BASE });
    const recipe = validateRecipe(readRecipe(path.join(dir, 'r.yaml')), registry());
    expect(recipe.value.train).toEqual({ type: 'recording', steps: 10, lr: 0.001 });
    expect(recipe.value.metrics).toEqual([{ type: 'count', scale: 1 }]);
    expect(recipe.selections.map((s) => `${s.path}=${s.kind}:${s.id}`)).toEqual(['metrics[0]=metric:count', 'train=trainer:recording']);
  });

  test('errors name the path, the value and file:line', () => {
    const text = ['train:', '  type: recording', '  steps: "8x"', 'metrics:', '  - type: count', '    scale: -1', ''].join('\n');
    const dir = writeFiles({ 'recipe.yaml': text });
    expect(() => validateRecipe(readRecipe(path.join(dir, 'recipe.yaml')), registry())).toThrow(
      /train\.steps: expected number, got "8x" \(recipe\.yaml:3\)[\s\S]*metrics\[0\]\.scale: .*got -1 \(recipe\.yaml:6\)/,
    );
  });

  test('unknown sections and unknown provider ids are reported with their lines', () => {
    const dir = writeFiles({ 'r.yaml': ['trian:', '  type: recording', 'train:', '  type: recordin', '  steps: 1', ''].join('\n') });
    let message = '';
    try {
      validateRecipe(readRecipe(path.join(dir, 'r.yaml')), registry());
    } catch (error) {
      message = (error as Error).message;
    }
    expect(message).toContain('trian: unknown key; did you mean "train"? (r.yaml:1)');
    expect(message).toContain('train.type: no plugin provides trainer "recordin"; available: recording (r.yaml:4)');
  });

  test('extends merges parents under children, with lines from the file that set each value', () => {
    const dir = writeFiles({
      'base.yaml': BASE,
      'child.yaml': ['extends: ./base.yaml', 'train:', '  steps: "x"', ''].join('\n'),
    });
    const raw = readRecipe(path.join(dir, 'child.yaml'));
    expect(raw.value.seed).toBe(7);
    expect(raw.value.train).toEqual({ type: 'recording', steps: 'x', lr: 0.001 });
    expect(() => validateRecipe(raw, registry())).toThrow('train.steps: expected number, got "x" (child.yaml:3)');
    expect(raw.value.extends).toBeUndefined();
  });

  test('a null in a child removes what the parent set (a section or a key)', () => {
    const dir = writeFiles({
      'base.yaml': BASE,
      'child.yaml': ['extends: ./base.yaml', 'seed: null', 'train:', '  lr: null', ''].join('\n'),
    });
    const raw = readRecipe(path.join(dir, 'child.yaml'));
    expect('seed' in raw.value).toBe(false);
    expect(raw.value.train).toEqual({ type: 'recording', steps: 10 });
  });

  test('extends cycles are refused', () => {
    const dir = writeFiles({ 'a.yaml': 'extends: ./b.yaml\n', 'b.yaml': 'extends: ./a.yaml\n' });
    expect(() => readRecipe(path.join(dir, 'a.yaml'))).toThrow(/cycle: .*a\.yaml → .*b\.yaml → .*a\.yaml/);
  });

  test('--set overrides parse YAML values and create sections', () => {
    const dir = writeFiles({ 'r.yaml': BASE });
    const raw = readRecipe(path.join(dir, 'r.yaml'), ['train.lr=2e-4', 'metrics[0].scale=3', 'output_dir=out']);
    expect((raw.value.train as Record<string, unknown>).lr).toBe(2e-4);
    expect((raw.value.metrics as Array<Record<string, unknown>>)[0]!.scale).toBe(3);
    expect(raw.value.output_dir).toBe(path.resolve('out')); // --set paths resolve from the working folder
    expect(parseOverride('a.b=[1, 2]').value).toEqual([1, 2]);
    expect(() => parseOverride('novalue')).toThrow('expected path=value');
    const bad = readRecipe(path.join(dir, 'r.yaml'), ['train.steps=zero']);
    expect(() => validateRecipe(bad, registry())).toThrow('train.steps: expected number, got "zero" (--set train.steps=zero)');
  });

  test('JSON recipes and YAML syntax errors with their line', () => {
    const dir = writeFiles({ 'r.json': JSON.stringify({ train: { type: 'recording', steps: 2 } }), 'bad.yaml': 'train:\n  steps: [1,\n' });
    expect(validateRecipe(readRecipe(path.join(dir, 'r.json')), registry()).value.train).toEqual({ type: 'recording', steps: 2, lr: 1e-4 });
    expect(() => readRecipe(path.join(dir, 'bad.yaml'))).toThrow(/bad\.yaml:\d+:/);
    expect(() => readRecipe(path.join(dir, 'missing.yaml'))).toThrow('cannot read recipe');
  });

  test('JSON Schema lists each provider as a choice for its section, plus the partial section of a recipe that extends', () => {
    const schema = recipeJsonSchema(registry()) as {
      properties: Record<string, { anyOf?: Array<Record<string, unknown>>; items?: { anyOf: unknown[] } }>;
    };
    const [recording, partial] = schema.properties.train!.anyOf!;
    // `type` is one of the section's own properties: strict sections accept it (issue: every shipped recipe was refused).
    expect(recording).toMatchObject({
      properties: { type: { const: 'recording' } },
      required: ['type', 'steps'],
      additionalProperties: false,
    });
    expect(partial).toMatchObject({ not: { required: ['type'] }, additionalProperties: false });
    expect(schema.properties.metrics!.items!.anyOf).toHaveLength(2);
    // a plain z.object (the count metric) is strict here as in validateRecipe
    expect(schema.properties.metrics!.items!.anyOf[0]).toMatchObject({ additionalProperties: false });
  });
});
