// The third-party path: a separate package (examples/third-party-plugin) loaded through a recipe
// by its npm name or an explicit path, validated by its own schema, listed by `mmft plugins`.
import 'reflect-metadata';
import { describe, expect, test } from '@jest/globals';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { createCliContext } from '@mmft/cli';
import { runCliForTest } from '@mmft/cli/testing';
import { readRecipe, validateRecipe, type MetricProvider } from '@mmft/core';

const FIXTURES = path.join(__dirname, '..', 'fixtures');
const RECIPE = path.join(FIXTURES, 'third-party.yaml');

describe('third-party plugin through a recipe', () => {
  test('the recipe loads the package by name and its section validates with the plugin schema', async () => {
    const raw = readRecipe(RECIPE, ['train.type=none']);
    const registry = await createCliContext({ builtins: [] }).createRegistry(raw.value.plugins as string[], raw.baseDir);
    expect(registry.ownerOf('metric', 'exact-match')).toBe('mmft-plugin-exact-match');
    const bad = readRecipe(RECIPE, ['metrics[0].caseSensitive=maybe']);
    expect(() => validateRecipe(bad, registry)).toThrow('metrics[0].caseSensitive: expected boolean, got "maybe"');
    const metric = (registry.resolve('metric', 'exact-match') as MetricProvider).create({ caseSensitive: false });
    metric.update({ kind: 'text', id: 'q1', prediction: 'Two', references: ['two'] });
    expect(metric.compute().scores.exact_match).toBe(100);
  });

  test('an explicit local path loads the same plugin', async () => {
    const registry = await createCliContext({ builtins: [] }).createRegistry(['../../examples/third-party-plugin'], __dirname);
    expect(registry.list('metric').map((m) => m.id)).toEqual(['exact-match']);
  });

  test('mmft plugins --recipe lists it', async () => {
    const run = await runCliForTest(['plugins', '--recipe', RECIPE], { builtins: [] });
    expect(run.code).toBe(0);
    expect(run.stdout).toMatch(/mmft-plugin-exact-match@1\.0\.0\s+metric\s+exact-match/);
  });

  test('mmft train names the missing trainer and what is available', async () => {
    const run = await runCliForTest(['train', RECIPE], { builtins: [] });
    expect(run.code).toBe(1);
    expect(run.stderr).toContain('train.type: no plugin provides trainer "missing-trainer"; available: (none loaded)');
  });

  test('a recipe naming a package that is not installed fails with one line and a hint', async () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'mmft-e2e-'));
    fs.writeFileSync(path.join(dir, 'r.yaml'), 'plugins: [mmft-plugin-not-installed]\ntrain: { type: x }\n');
    const run = await runCliForTest(['train', path.join(dir, 'r.yaml')], { builtins: [] });
    expect(run.code).toBe(1);
    expect(run.stderr.split('\n')[0]).toMatch(/^error: cannot find plugin package "mmft-plugin-not-installed"/);
    expect(run.stderr).toContain('hint:');
    const verbose = await runCliForTest(['train', path.join(dir, 'r.yaml'), '--verbose'], { builtins: [] });
    expect(verbose.stderr).toContain('caused by:');
  });

  test('exact-match runs inside mmft train (retrieval as captioning feeds it text inputs) and picks checkpoint-best', async () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'mmft-e2e-train-'));
    const recipe = path.join(dir, 'r.yaml');
    const parent = path.join(__dirname, '..', '..', 'recipes', 'clip-shapes-finetune.yaml');
    fs.writeFileSync(
      recipe,
      `extends: ${parent}\noutput_dir: ./run\nmetrics:\n  - type: retrieval\n  - type: exact-match\n    caseSensitive: true\ntrain:\n  max_steps: 2\n  warmup_steps: 0\n  batch_size: 4\n  eval_batch_size: 8\n  metric_for_best: exact-match.exact_match\n`,
    );
    const run = await runCliForTest([
      'train',
      recipe,
      '--set',
      'data.train.n=8',
      '--set',
      'data.eval.n=8',
      '--plugin',
      'mmft-plugin-exact-match',
    ]);
    expect(run.stderr).toBe('');
    expect(run.code).toBe(0);
    const log = fs
      .readFileSync(path.join(dir, 'run', 'metrics.jsonl'), 'utf8')
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l) as Record<string, unknown>);
    const evals = log.filter((e) => e.kind === 'eval');
    expect(evals.map((e) => e.step)).toEqual([0, 2]);
    for (const e of evals) expect(typeof e['exact-match.exact_match']).toBe('number');
    expect(fs.existsSync(path.join(dir, 'run', 'checkpoint-best'))).toBe(true);
  });
});
