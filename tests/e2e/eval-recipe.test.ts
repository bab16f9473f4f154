// `mmft eval recipe`: the committed demo base model, scored on held-out shapes scenes through the
// same recipe machinery as training (checkpoint load, data, metrics), with no training step.
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
    const log = fs.readFileSync(path.join(out, 'metrics.jsonl'), 'utf8').trim().split('\n').map((l) => JSON.parse(l) as { kind: string });
    expect(log.map((e) => e.kind)).toEqual(['eval']);
  });
});
