// Paths in recipes through the real plugins and the CLI: a parent's paths resolve from the parent
// file (extends), `--set` paths from the working folder (the example of `mmft eval recipe --help`).
import 'reflect-metadata';
import { describe, expect, test } from '@jest/globals';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { readRecipe, validateRecipe } from '@mmft/core';
import { createCliContext } from '../context';
import { runCliForTest } from '../testing';

const BUILTINS = [
  '@mmft/backend-tfjs',
  '@mmft/data-jsonl',
  '@mmft/arch-clip',
  '@mmft/loss-contrastive',
  '@mmft/trainer-standard',
  '@mmft/metric-retrieval',
];

function layout(): { root: string; child: string } {
  const root = fs.mkdtempSync(path.join(os.tmpdir(), 'mmft-recipe-paths-'));
  fs.mkdirSync(path.join(root, 'recipes', 'base'), { recursive: true });
  fs.writeFileSync(
    path.join(root, 'recipes', 'base', 'parent.yaml'),
    [
      'output_dir: ../../runs/parent',
      'model: { type: clip, checkpoint: ../../models/base }',
      'data:',
      '  eval: { type: jsonl, path: ../../data/eval.jsonl, root: ../../data }',
      'loss: { type: clip }',
      'metrics: [{ type: retrieval, ks: [1] }]',
      'train: { type: standard }',
      '',
    ].join('\n'),
  );
  const child = path.join(root, 'recipes', 'child.yaml');
  fs.writeFileSync(child, 'extends: ./base/parent.yaml\nname: child\n');
  return { root, child };
}

describe('recipe paths', () => {
  test('paths a parent recipe holds resolve from the parent file, through the real plugin schemas', async () => {
    const { root, child } = layout();
    const registry = await createCliContext({ builtins: BUILTINS }).createRegistry();
    const recipe = validateRecipe(readRecipe(child), registry);
    expect(recipe.value.output_dir).toBe(path.join(root, 'runs/parent'));
    expect((recipe.value.model as { checkpoint: string }).checkpoint).toBe(path.join(root, 'models/base'));
    expect((recipe.value.data as { eval: unknown }).eval).toMatchObject({
      path: path.join(root, 'data/eval.jsonl'),
      root: path.join(root, 'data'),
    });
  });

  test('mmft eval recipe --set model.checkpoint=... resolves from the working folder; --set reaches list items', async () => {
    const { root, child } = layout();
    const cwd = path.join(root, 'work');
    fs.mkdirSync(cwd);
    const run = await runCliForTest(
      ['eval', 'recipe', child, '--set', 'model.checkpoint=runs/x/checkpoint-best/model', '--set', 'metrics.0.ks=[1, 5]'],
      { cwd, builtins: BUILTINS },
    );
    expect(run.code).toBe(1);
    expect(run.stderr).toContain(`checkpoint folder ${path.join(cwd, 'runs/x/checkpoint-best/model')} does not exist`);
    const bad = await runCliForTest(['eval', 'recipe', child, '--set', 'metrics.0.kss=[1]'], { cwd, builtins: BUILTINS });
    expect(bad.stderr).toContain('metrics[0].kss: unknown key; did you mean "ks"? (--set metrics.0.kss=[1])');
  });
});
