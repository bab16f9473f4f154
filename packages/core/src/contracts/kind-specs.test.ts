import { describe, expect, test } from '@jest/globals';
import { findSections, RECIPE_SECTIONS, RecipeShapeSchema, sectionOrDefault, type SectionSpec } from '../recipe/sections';
import { ARCHITECTURES, BACKENDS, DATASETS, EXPORTERS, LOSSES, METRICS, PEFT_METHODS, TRAINERS } from '../tokens';
import { KIND_SPECS, KIND_TOKENS, kindSpec, PLUGIN_KINDS } from './kind-specs';

describe('the kinds table', () => {
  test('one row per kind, each with its own Symbol.for token (identity across two copies of core)', () => {
    expect([...PLUGIN_KINDS]).toEqual(KIND_SPECS.map((s) => s.kind).sort());
    expect(new Set(KIND_SPECS.map((s) => s.token)).size).toBe(KIND_SPECS.length);
    for (const spec of KIND_SPECS) {
      expect(typeof spec.token).toBe('symbol');
      expect(Symbol.keyFor(spec.token as symbol)).toMatch(/^@mmft\/core:/);
      expect(KIND_TOKENS[spec.kind]).toBe(spec.token);
    }
    expect(kindSpec('peft').label).toBe('PEFT method');
  });

  test('the named tokens are the rows of the table, with the names plugins already use', () => {
    expect([ARCHITECTURES, BACKENDS, DATASETS, LOSSES, METRICS, PEFT_METHODS, TRAINERS, EXPORTERS]).toEqual(
      ['architecture', 'backend', 'dataset', 'loss', 'metric', 'peft', 'trainer', 'exporter'].map(
        (k) => KIND_TOKENS[k as keyof typeof KIND_TOKENS],
      ),
    );
    expect(METRICS).toBe(Symbol.for('@mmft/core:Metric'));
    expect(PEFT_METHODS).toBe(Symbol.for('@mmft/core:PeftMethod'));
  });

  test('the recipe shape has exactly the sections the table lists, in its order', () => {
    expect(RECIPE_SECTIONS.map((s) => `${s.path.join('.')}:${s.kind}:${s.key}`)).toEqual(
      KIND_SPECS.flatMap((k) => k.sections.map((s) => `${s.path.join('.')}:${k.kind}:${s.key}`)),
    );
    const keys = Object.keys(RecipeShapeSchema.shape);
    expect(keys).toEqual([
      'extends',
      'name',
      'description',
      'plugins',
      'seed',
      'output_dir',
      'backend',
      'model',
      'data',
      'peft',
      'loss',
      'objective',
      'metrics',
      'train',
      'export',
      'card',
      'trust',
    ]);
    for (const spec of RECIPE_SECTIONS) expect(keys).toContain(spec.path[0]);
    expect(RecipeShapeSchema.safeParse({ data: { train: { type: 'x' } }, metrics: [{ type: 'm' }] }).success).toBe(true);
    expect(RecipeShapeSchema.safeParse({ data: { test: { type: 'x' } } }).success).toBe(false);
  });

  test('an optional top-level section can name the provider a recipe without it gets', () => {
    const spec: SectionSpec = { path: ['objective'], kind: 'loss', key: 'type', default: 'contrastive' };
    expect(sectionOrDefault({}, spec)).toEqual({ type: 'contrastive' });
    expect(sectionOrDefault({ objective: { type: 'lm', label_smoothing: 0 } }, spec)).toEqual({ type: 'lm', label_smoothing: 0 });
    expect(sectionOrDefault({}, { ...spec, default: undefined })).toBeUndefined();
    expect(findSections({}, spec)).toEqual([]);
  });
});
