// `mmft train --sanity [N]`: the recipe it runs (overfit_batches, evaluation off, capped steps) and
// one in-process run on the embedded CLIP with cached features (a few seconds).
import 'reflect-metadata';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { describe, expect, test } from '@jest/globals';
import { runCliForTest } from '../testing';
import { SANITY_MAX_STEPS, sanityRecipe } from './train';

const RECIPE = path.join(__dirname, '..', '..', '..', '..', 'recipes', 'clip-shapes-finetune.yaml');

describe('sanityRecipe', () => {
  const recipe = {
    name: 'r',
    data: { train: { type: 'shapes', n: 10 }, eval: { type: 'shapes', n: 4 } },
    metrics: [{ type: 'retrieval' }],
    train: {
      type: 'standard',
      lr: 1e-3,
      max_steps: 300,
      eval_every: 10,
      save_every: 5,
      metric_for_best: 'retrieval.i2t_R@1',
      early_stopping_patience: 2,
    },
  };

  test('overfit_batches N, no evaluation, only the final checkpoint, max_steps capped at 100', () => {
    expect(SANITY_MAX_STEPS).toBe(100);
    expect(sanityRecipe(recipe, 3)).toEqual({
      name: 'r',
      data: { train: { type: 'shapes', n: 10 } },
      metrics: [],
      train: { type: 'standard', lr: 1e-3, max_steps: 100, overfit_batches: 3 },
    });
  });

  test("the recipe's max_steps when lower; 100 when it has none", () => {
    expect((sanityRecipe({ ...recipe, train: { type: 'standard', max_steps: 40 } }, 2).train as { max_steps: number }).max_steps).toBe(40);
    expect((sanityRecipe({ ...recipe, train: { type: 'standard', epochs: 9 } }, 2).train as { max_steps: number }).max_steps).toBe(100);
  });
});

describe('mmft train --sanity', () => {
  test('overfits 2 batches into <output_dir>-sanity and prints the verdict', async () => {
    const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'mmft-sanity-'));
    const set = [
      `output_dir=${path.join(tmp, 'run')}`,
      'data.train.n=4',
      'train.batch_size=2',
      'train.strategy=feature-based',
      'train.max_steps=20',
      'train.warmup_steps=0',
      'train.lr=0.01',
      'train.save_every=1',
    ].flatMap((s) => ['--set', s]);
    const run = await runCliForTest(['train', RECIPE, ...set, '--sanity']);
    expect(run.stderr).toBe('');
    expect(run.code).toBe(0);
    const out = path.join(tmp, 'run-sanity');
    const entries = fs
      .readFileSync(path.join(out, 'metrics.jsonl'), 'utf8')
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l) as Record<string, number | string>);
    // 20 steps (the recipe's, below 100), no evaluation at all, the verdict last.
    expect(entries.filter((e) => e.kind === 'train').map((e) => e.step)).toEqual(Array.from({ length: 20 }, (_, i) => i + 1));
    expect(entries.filter((e) => e.kind === 'eval')).toEqual([]);
    const final = entries[entries.length - 1]!;
    expect(final).toMatchObject({ kind: 'sanity', step: 20, overfit_batches: 2, falls_to_zero: 'yes' });
    expect(run.stdout).toContain('falls towards zero: yes');
    // save_every is dropped: only the final checkpoint, no best one.
    expect(
      fs
        .readdirSync(out)
        .filter((f) => f.startsWith('checkpoint'))
        .sort(),
    ).toEqual(['checkpoint-last']);
  }, 60_000);

  test('a bad batch count is refused', async () => {
    const run = await runCliForTest(['train', RECIPE, '--sanity', 'two']);
    expect(run.code).not.toBe(0);
    expect(run.stderr).toContain('--sanity two: expected a whole number of batches');
  });
});
