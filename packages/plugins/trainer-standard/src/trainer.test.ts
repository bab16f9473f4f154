import '@tensorflow/tfjs-backend-cpu';
import * as tf from '@tensorflow/tfjs-core';
import { beforeAll, describe, expect, test } from '@jest/globals';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import type { RunContext } from '@mmft/core';
import { counters, recordingReporter, registry } from './fixtures.test-helper';
import { registerGradients } from '@mmft/core/nn';
import { readTensorFile } from '@mmft/core/io';
import { runTraining, trainConfigSchema } from './index';

beforeAll(async () => {
  await tf.setBackend('cpu');
  registerGradients();
});

const tmp = () => fs.mkdtempSync(path.join(os.tmpdir(), 'mmft-trainer-'));

function context(
  outputDir: string,
  overrides: Partial<RunContext> & { loss?: Record<string, unknown>; evalData?: boolean } = {},
): RunContext {
  const { loss, evalData, ...rest } = overrides;
  return {
    recipe: {
      name: 'tiny',
      seed: 7,
      model: { type: 'tiny-dual', config: { seed: 3 } },
      data: { train: { type: 'memory', name: 'train' }, ...(evalData ? { eval: { type: 'memory', name: 'eval' } } : {}) },
      loss: { type: 'test-infonce', ...loss },
      metrics: evalData ? [{ type: 'retrieval' }] : [],
    },
    baseDir: outputDir,
    outputDir,
    resolver: registry(),
    reporter: recordingReporter(),
    ...rest,
  };
}

const losses = (dir: string) =>
  fs
    .readFileSync(path.join(dir, 'metrics.jsonl'), 'utf8')
    .trim()
    .split('\n')
    .map((l) => JSON.parse(l) as { kind: string; step: number; loss: number })
    .filter((e) => e.kind === 'train');

const base = { batch_size: 4, grad_accum_steps: 2, lr: 1e-2, warmup_steps: 2, schedule: 'cosine', log_every: 1 } as const;

describe('standard trainer', () => {
  test('3 steps + resume 3 steps reproduces 6 uninterrupted steps bit for bit', async () => {
    const straight = tmp();
    await runTraining(trainConfigSchema.parse({ ...base, max_steps: 6 }), context(straight));
    const interrupted = tmp();
    const controller = new AbortController();
    await runTraining(
      trainConfigSchema.parse({ ...base, max_steps: 6 }),
      context(interrupted, { signal: controller.signal, reporter: recordingReporter((s) => s === 3 && controller.abort()) }),
    );
    const state = JSON.parse(fs.readFileSync(path.join(interrupted, 'checkpoint-last', 'trainer_state.json'), 'utf8'));
    expect(state.globalStep).toBe(3);
    const resumed = tmp();
    await runTraining(
      trainConfigSchema.parse({ ...base, max_steps: 6 }),
      context(resumed, { resumeFrom: path.join(interrupted, 'checkpoint-last') }),
    );
    const a = losses(straight);
    const b = losses(resumed);
    expect(b.map((e) => e.step)).toEqual([1, 2, 3, 4, 5, 6]);
    expect(b.map((e) => e.loss)).toEqual(a.map((e) => e.loss));
    expect(a[5]!.loss).not.toBe(a[0]!.loss); // it trained
  });

  test('NaN loss stops with E_NUMERIC naming the step and keeps the last good checkpoint', async () => {
    const dir = tmp();
    const run = runTraining(
      trainConfigSchema.parse({ batch_size: 4, max_steps: 6, save_every: 2 }),
      context(dir, { loss: { nan_at_call: 3 } }),
    );
    await expect(run).rejects.toMatchObject({ code: 'E_NUMERIC', message: expect.stringContaining('step 3: loss is NaN') });
    const state = JSON.parse(fs.readFileSync(path.join(dir, 'checkpoint-last', 'trainer_state.json'), 'utf8'));
    expect(state.globalStep).toBe(2);
    expect(fs.existsSync(path.join(dir, 'report.html'))).toBe(true);
  });

  test('no tensor leaks across steps and evaluations', async () => {
    const dir = tmp();
    const counts: number[] = [];
    const reporter = recordingReporter(() => counts.push(tf.memory().numTensors));
    await runTraining(
      trainConfigSchema.parse({ batch_size: 4, max_steps: 6, log_every: 1, eval_every: 2 }),
      context(dir, { reporter, evalData: true }),
    );
    expect(counts).toHaveLength(6);
    expect(new Set(counts.slice(1)).size).toBe(1);
  });

  test('evaluation picks checkpoint-best by the metric and writes a self-contained report', async () => {
    const dir = tmp();
    const summary = await runTraining(
      trainConfigSchema.parse({ batch_size: 4, max_steps: 4, eval_every: 2, metric_for_best: 'retrieval.i2t_R@1', lr: 1e-2 }),
      context(dir, { evalData: true }),
    );
    expect(summary.metrics['retrieval.i2t_R@1']).toBeGreaterThanOrEqual(0);
    expect(fs.existsSync(path.join(dir, 'checkpoint-best', 'model', 'weights.json'))).toBe(true);
    const state = JSON.parse(fs.readFileSync(path.join(dir, 'checkpoint-best', 'trainer_state.json'), 'utf8'));
    expect(state.metricForBest).toBe('retrieval.i2t_R@1');
    expect(state.greaterIsBetter).toBe(true);
    const html = fs.readFileSync(path.join(dir, 'report.html'), 'utf8');
    expect(html).toContain('<svg');
    expect(html).toContain('retrieval.i2t_R@1');
    expect(html).not.toMatch(/\s(src|href)=|<script|<link/);
  });

  test('the summary gives the tensor peak inside the second step, above what is held between steps', async () => {
    const dir = tmp();
    const reporter = recordingReporter();
    await runTraining(trainConfigSchema.parse({ batch_size: 4, max_steps: 3 }), context(dir, { reporter }));
    const line = reporter.lines.find((l) => l.startsWith('peak memory:'))!;
    const [, between, within, step] = /tensors between steps ([\d.]+) MiB, within a step ([\d.]+) MiB \(step (\d+)\)/.exec(line)!;
    expect(step).toBe('2');
    expect(Number(within)).toBeGreaterThan(Number(between));
  });

  test('lock-image trains only the text tower', async () => {
    const dir = tmp();
    await runTraining(trainConfigSchema.parse({ batch_size: 4, max_steps: 2, strategy: 'lock-image' }), context(dir));
    const { tensors } = await readTensorFile(path.join(dir, 'checkpoint-last', 'trainable.safetensors'));
    const names = [...tensors.keys()];
    expect(names.some((n) => n.startsWith('vision_model') || n.startsWith('visual_projection'))).toBe(false);
    expect(names).toEqual(expect.arrayContaining(['text_projection.weight', 'token_embedding.weight', 'logit_scale']));
  });

  test('feature-based: encoders run once to cache features, never in later epochs or runs', async () => {
    const dir = tmp();
    counters.imageForwards = 0;
    const config = trainConfigSchema.parse({ batch_size: 4, epochs: 3, strategy: 'feature-based', eval_batch_size: 4, lr: 1e-2 });
    const first = await runTraining(config, context(dir, { evalData: true }));
    // 12 train + 6 eval examples in chunks of 4: 3 + 2 image forwards, all while caching.
    expect(counters.imageForwards).toBe(5);
    expect(first.steps).toBe(9);
    expect(fs.existsSync(path.join(dir, 'features', 'train.safetensors'))).toBe(true);
    counters.imageForwards = 0;
    await runTraining(config, context(dir, { evalData: true }));
    expect(counters.imageForwards).toBe(0);
  });
});
