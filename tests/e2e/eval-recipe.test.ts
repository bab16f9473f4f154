// `mmft eval recipe`: the committed demo base model, scored on held-out shapes scenes through the
// same recipe machinery as training (checkpoint load, data, metrics), with no training step; the
// objective's evaluation feeds every metric by the input kind it consumes (caption and the
// third-party exact-match read text, vqa reads vqa, retrieval reads embeddings).
import 'reflect-metadata';
import { describe, expect, test } from '@jest/globals';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { runCliForTest } from '@mmft/cli/testing';

const RECIPE = path.join(__dirname, '..', '..', 'recipes', 'clip-shapes-eval-a.yaml');

describe('mmft eval recipe', () => {
  test('scores the base model on domain A without training and leaves the run folder apart', async () => {
    const out = fs.mkdtempSync(path.join(os.tmpdir(), 'mmft-eval-'));
    const run = await runCliForTest(['eval', 'recipe', RECIPE, '--set', 'data.eval.n=48', '--output', out]);
    expect(run.stderr).toBe('');
    expect(run.code).toBe(0);
    const row = /retrieval\.i2t_R@5\s+([\d.]+)/.exec(run.stdout);
    expect(row).not.toBeNull();
    // 48 images: chance R@5 is 10.4%; the base model was trained on this domain.
    expect(Number(row![1])).toBeGreaterThan(30);
    expect(run.stdout).toContain('done: 0 steps');
    const log = fs
      .readFileSync(path.join(out, 'metrics.jsonl'), 'utf8')
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l) as { kind: string });
    expect(log.map((e) => e.kind)).toEqual(['eval']);
  });

  test('scores caption, vqa and the third-party exact-match metric, each fed by the kind it consumes', async () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'mmft-eval-kinds-'));
    const captions = path.join(dir, 'captions.yaml');
    fs.writeFileSync(captions, `extends: ${RECIPE}\nmetrics:\n  - type: retrieval\n  - type: caption\n  - type: exact-match\n`);
    const run = await runCliForTest([
      'eval',
      'recipe',
      captions,
      '--set',
      'data.eval.n=16',
      '--plugin',
      'mmft-plugin-exact-match',
      '--output',
      path.join(dir, 'c'),
    ]);
    expect(run.stderr).toBe('');
    expect(run.code).toBe(0);
    const score = (name: string, stdout: string) => Number(new RegExp(`${name.replace(/[.@]/g, '\\$&')}\\s+([\\d.]+)`).exec(stdout)?.[1]);
    for (const name of ['retrieval.i2t_R@1', 'caption.bleu4', 'caption.cider', 'exact-match.exact_match']) {
      expect(score(name, run.stdout)).toBeGreaterThanOrEqual(0);
    }
    // A caption that ranks first is one of the eval texts: exact-match counts the images whose own caption wins.
    expect(score('exact-match.exact_match', run.stdout)).toBeLessThanOrEqual(100);
    const vqa = path.join(dir, 'vqa.yaml');
    fs.writeFileSync(
      vqa,
      `extends: ${RECIPE}\ndata:\n  eval:\n    task: vqa\nmetrics:\n  - type: vqa\ntrain:\n  metric_for_best: vqa.accuracy\n`,
    );
    const answered = await runCliForTest(['eval', 'recipe', vqa, '--set', 'data.eval.n=8', '--output', path.join(dir, 'v')]);
    expect(answered.stderr).toBe('');
    expect(answered.code).toBe(0);
    expect(score('vqa.accuracy', answered.stdout)).toBeGreaterThanOrEqual(0);
  });
});
