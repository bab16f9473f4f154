import 'reflect-metadata';
import { describe, expect, test } from '@jest/globals';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { z } from 'zod';
import type { DatasetProvider } from '../contracts/dataset';
import { PluginRegistry } from '../registry/plugin-registry';
import { countingMetric, pluginOf, recordingTrainer } from '../testing/fake-plugins';
import { parseOverride } from './overrides';
import { isRecipePath, recipePath } from './paths';
import { readRecipe } from './read-recipe';
import { recipePluginRequests } from './recipe-plugins';
import { walkSchema } from './schema-walk';
import { validateRecipe } from './validate-recipe';

const fileDataset = {
  kind: 'dataset',
  id: 'files',
  description: 'test dataset with path fields',
  configSchema: z.strictObject({
    path: recipePath(z.string().min(1)).describe('data file'),
    images: recipePath(z.string()).optional().describe('image folder'),
    shards: z.array(recipePath(z.string())).optional().describe('more files'),
    label: z.string().default('x').describe('not a path'),
  }),
  open: async () => {
    throw new Error('not used');
  },
} as unknown as DatasetProvider;

function registry(): PluginRegistry {
  const r = new PluginRegistry();
  r.use(pluginOf('@test/plugins', [countingMetric, recordingTrainer, fileDataset]), '@test/plugins');
  return r;
}

/** A tree of files under a fresh temp folder; returns its path. */
function tree(files: Record<string, string>): string {
  const root = fs.mkdtempSync(path.join(os.tmpdir(), 'mmft-paths-'));
  for (const [name, text] of Object.entries(files)) {
    fs.mkdirSync(path.dirname(path.join(root, name)), { recursive: true });
    fs.writeFileSync(path.join(root, name), text);
  }
  return root;
}

const PARENT = [
  'output_dir: ../runs/base',
  'plugins: [./local-plugin, mmft-plugin-x]',
  'train: { type: recording, steps: 1 }',
  'data:',
  '  train: { type: files, path: ../data/train.jsonl, images: imgs, shards: [a.jsonl, /abs/b.jsonl], label: ../not-a-path }',
  '',
].join('\n');

describe('path fields resolve from the file that holds them', () => {
  test('values inherited through extends resolve from the parent file, not the child', () => {
    const root = tree({ 'base/parent.yaml': PARENT, 'exp/child.yaml': 'extends: ../base/parent.yaml\nname: child\n' });
    const raw = readRecipe(path.join(root, 'exp/child.yaml'));
    expect(raw.value.output_dir).toBe(path.join(root, 'runs/base'));
    const data = (validateRecipe(raw, registry()).value.data as { train: Record<string, unknown> }).train;
    expect(data).toEqual({
      type: 'files',
      path: path.join(root, 'data/train.jsonl'),
      images: path.join(root, 'base/imgs'),
      shards: [path.join(root, 'base/a.jsonl'), '/abs/b.jsonl'],
      label: '../not-a-path',
    });
  });

  test('a child that sets a path itself resolves it from its own folder; the rest stays with the parent', () => {
    const root = tree({
      'base/parent.yaml': PARENT,
      'exp/child.yaml': 'extends: ../base/parent.yaml\noutput_dir: out\ndata:\n  train:\n    path: mine.jsonl\n',
    });
    const recipe = validateRecipe(readRecipe(path.join(root, 'exp/child.yaml')), registry());
    expect(recipe.value.output_dir).toBe(path.join(root, 'exp/out'));
    const data = (recipe.value.data as { train: Record<string, unknown> }).train;
    expect(data.path).toBe(path.join(root, 'exp/mine.jsonl'));
    expect(data.images).toBe(path.join(root, 'base/imgs'));
  });

  test('--set paths resolve from the working folder, whatever folder the recipe is in', () => {
    const root = tree({ 'base/parent.yaml': PARENT });
    const cwd = path.join(root, 'elsewhere');
    const raw = readRecipe(path.join(root, 'base/parent.yaml'), ['data.train.path=runs/x/train.jsonl', 'output_dir=runs/out'], { cwd });
    expect(raw.value.output_dir).toBe(path.join(cwd, 'runs/out'));
    const data = (validateRecipe(raw, registry()).value.data as { train: Record<string, unknown> }).train;
    expect(data.path).toBe(path.join(cwd, 'runs/x/train.jsonl'));
    expect(data.images).toBe(path.join(root, 'base/imgs'));
  });

  test('a --set that replaces a whole section resolves every path in it from the working folder', () => {
    const root = tree({ 'base/parent.yaml': PARENT });
    const cwd = path.join(root, 'w');
    const raw = readRecipe(path.join(root, 'base/parent.yaml'), ['data.train={type: files, path: t.jsonl}'], { cwd });
    const data = (validateRecipe(raw, registry()).value.data as { train: Record<string, unknown> }).train;
    expect(data).toEqual({ type: 'files', path: path.join(cwd, 't.jsonl'), label: 'x' });
  });

  test('the mark survives optional/default/describe wrappers', () => {
    expect(isRecipePath(recipePath(z.string()).describe('d'))).toBe(true);
    const schema = z.strictObject({ a: recipePath(z.string().min(1)).optional().describe('x'), b: recipePath(z.string()).default('b') });
    expect(walkSchema(schema, schema.parse({ a: 'x' })).paths.map((p) => p.segments.join('.'))).toEqual(['a', 'b']);
  });
});

describe('--set addresses list items', () => {
  const RECIPE = 'train: { type: recording, steps: 1 }\nmetrics:\n  - type: count\n  - type: count\n';

  test('metrics.1.scale=3 and metrics[1].scale=3 set the second item', () => {
    const root = tree({ 'r.yaml': RECIPE });
    for (const text of ['metrics.1.scale=3', 'metrics[1].scale=3']) {
      const recipe = validateRecipe(readRecipe(path.join(root, 'r.yaml'), [text]), registry());
      expect(recipe.value.metrics).toEqual([
        { type: 'count', scale: 1 },
        { type: 'count', scale: 3 },
      ]);
    }
    expect(parseOverride('metrics.0.k=5').segments).toEqual(['metrics', 0, 'k']);
  });

  test('an index past the end is refused with the list length; errors name the --set flag', () => {
    const root = tree({ 'r.yaml': RECIPE });
    expect(() => readRecipe(path.join(root, 'r.yaml'), ['metrics.5.scale=3'])).toThrow(
      '--set "metrics.5.scale=3": metrics has 2 items; use an index from 0 to 2 (2 appends)',
    );
    expect(() => readRecipe(path.join(root, 'r.yaml'), ['train.0=3'])).toThrow('--set "train.0=3": train is a mapping, not a list');
    expect(() => validateRecipe(readRecipe(path.join(root, 'r.yaml'), ['metrics.1.scale=-1']), registry())).toThrow(
      '(--set metrics.1.scale=-1)',
    );
  });
});

describe('recipePluginRequests', () => {
  test('each plugin carries the file:line that listed it and the folder its ./path resolves from', () => {
    const root = tree({ 'base/parent.yaml': PARENT, 'exp/child.yaml': 'extends: ../base/parent.yaml\n' });
    expect(recipePluginRequests(readRecipe(path.join(root, 'exp/child.yaml')))).toEqual([
      { specifier: './local-plugin', origin: '../base/parent.yaml:2', baseDir: path.join(root, 'base') },
      { specifier: 'mmft-plugin-x', origin: '../base/parent.yaml:2', baseDir: path.join(root, 'base') },
    ]);
  });
});
