// What the trainer does at the edges: data sets smaller than a batch, NaN before any checkpoint,
// resume summaries and a changed batch size, and unwritable or full output folders.
import '@tensorflow/tfjs-backend-cpu';
import * as tf from '@tensorflow/tfjs-core';
import { afterEach, beforeAll, describe, expect, jest, test } from '@jest/globals';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import type { RunContext } from '@mmft/core';
import { registerGradients } from '@mmft/core/nn';
import { DATASETS, makeExamples, recordingReporter, registry } from './fixtures.test-helper';
import { runTraining, trainConfigSchema } from './index';

// The module object itself (an `import * as` copy has fixed bindings jest cannot replace).
const fsp = require('node:fs/promises') as typeof import('node:fs/promises');

beforeAll(async () => {
  await tf.setBackend('cpu');
  registerGradients();
});

afterEach(() => {
  jest.restoreAllMocks();
});

DATASETS.three = makeExamples(3, 'retrieval');
DATASETS.one = makeExamples(1, 'retrieval');
DATASETS.seven = makeExamples(7, 'retrieval');
DATASETS.evalThree = makeExamples(3, 'caption', 5);

const tmp = () => fs.mkdtempSync(path.join(os.tmpdir(), 'mmft-edge-'));

interface Options {
  train?: string;
  evalSet?: string;
  loss?: Record<string, unknown>;
}

function context(
  outputDir: string,
  options: Options = {},
  overrides: Partial<RunContext> = {},
): RunContext & { reporter: ReturnType<typeof recordingReporter> } {
  return {
    recipe: {
      name: 'tiny',
      seed: 7,
      model: { type: 'tiny-dual', config: { seed: 3 } },
      data: {
        train: { type: 'memory', name: options.train ?? 'train' },
        ...(options.evalSet ? { eval: { type: 'memory', name: options.evalSet } } : {}),
      },
      loss: { type: 'test-infonce', ...options.loss },
      metrics: options.evalSet ? [{ type: 'retrieval' }] : [],
    },
    baseDir: outputDir,
    outputDir,
    resolver: registry(),
    reporter: recordingReporter(),
    ...overrides,
  } as RunContext & { reporter: ReturnType<typeof recordingReporter> };
}

const state = (dir: string) => JSON.parse(fs.readFileSync(path.join(dir, 'trainer_state.json'), 'utf8')) as Record<string, unknown>;

describe('data sets smaller than a batch', () => {
  test('3 examples with batch_size 5 train with a partial batch of 3 (model path, accumulation, eval)', async () => {
    const dir = tmp();
    const ctx = context(dir, { train: 'three', evalSet: 'evalThree' });
    const summary = await runTraining(
      trainConfigSchema.parse({ batch_size: 5, grad_accum_steps: 2, max_steps: 2, eval_batch_size: 5 }),
      ctx,
    );
    expect(summary.steps).toBe(2);
    expect(state(path.join(dir, 'checkpoint-last')).samplesSeen).toBe(12);
    expect(ctx.reporter.lines.some((l) => l.includes('3 examples, fewer than batch_size 5'))).toBe(true);
  });

  test('the feature-based path takes the same partial batch', async () => {
    const dir = tmp();
    const summary = await runTraining(
      trainConfigSchema.parse({ batch_size: 5, max_steps: 2, strategy: 'feature-based' }),
      context(dir, { train: 'three', evalSet: 'evalThree' }),
    );
    expect(summary.steps).toBe(2);
    expect(state(path.join(dir, 'checkpoint-last')).samplesSeen).toBe(6);
  });

  test('epochs keep the partial last batch (drop_last=False) and drop a last batch of one example', async () => {
    const dir = tmp();
    // 7 examples, batch 3: 3 + 3 + (1 dropped) per epoch -> 2 steps per epoch.
    const summary = await runTraining(trainConfigSchema.parse({ batch_size: 3, epochs: 2 }), context(dir, { train: 'seven' }));
    expect(summary.steps).toBe(4);
    const dir2 = tmp();
    // 7 examples, batch 5: 5 + 2 per epoch.
    const second = await runTraining(trainConfigSchema.parse({ batch_size: 5, epochs: 2 }), context(dir2, { train: 'seven' }));
    expect(second.steps).toBe(4);
    expect(state(path.join(dir2, 'checkpoint-last')).samplesSeen).toBe(14);
  });

  test('dataloader_drop_last: true with fewer examples than batch_size stops at once with a clear error', async () => {
    const dir = tmp();
    const run = runTraining(
      trainConfigSchema.parse({ batch_size: 5, max_steps: 2, dataloader_drop_last: true }),
      context(dir, { train: 'three' }),
    );
    await expect(run).rejects.toMatchObject({
      code: 'E_DATA',
      message: expect.stringContaining('data.train has 3 examples, fewer than train.batch_size 5'),
    });
  });

  test('a single example cannot train a contrastive loss: a clear error, not a spin', async () => {
    for (const strategy of ['full', 'feature-based'] as const) {
      const run = runTraining(trainConfigSchema.parse({ batch_size: 4, max_steps: 2, strategy }), context(tmp(), { train: 'one' }));
      await expect(run).rejects.toMatchObject({ code: 'E_DATA', message: expect.stringContaining('data.train has 1 example') });
    }
  });
});

describe('NaN before the first checkpoint', () => {
  test('says no checkpoint was written and does not hint at resuming from one', async () => {
    const run = runTraining(
      trainConfigSchema.parse({ batch_size: 4, max_steps: 6, save_every: 4 }),
      context(tmp(), { loss: { nan_at_call: 2 } }),
    );
    const error = (await run.catch((e: unknown) => e)) as { code: string; message: string; hint?: string };
    expect(error.code).toBe('E_NUMERIC');
    expect(error.message).toContain('step 2: loss is NaN');
    expect(error.message).toContain('no checkpoint was written');
    expect(error.message).not.toContain('last checkpoint is kept');
    expect(error.hint ?? '').not.toContain('--resume');
  });

  test('after a checkpoint, names it and its step', async () => {
    const dir = tmp();
    const run = runTraining(
      trainConfigSchema.parse({ batch_size: 4, max_steps: 6, save_every: 2 }),
      context(dir, { loss: { nan_at_call: 3 } }),
    );
    const error = (await run.catch((e: unknown) => e)) as { message: string; hint?: string };
    expect(error.message).toContain(`${path.join(dir, 'checkpoint-last')} (step 2) is kept`);
    expect(error.hint).toContain(`--resume ${path.join(dir, 'checkpoint-last')}`);
  });
});

describe('resume', () => {
  test('the summary keeps the "before" column and a finished run prints no NaN', async () => {
    const first = tmp();
    const controller = new AbortController();
    const config = trainConfigSchema.parse({ batch_size: 4, max_steps: 4, log_every: 1, eval_every: 4 });
    await runTraining(
      config,
      context(
        first,
        { evalSet: 'evalThree' },
        { signal: controller.signal, reporter: recordingReporter((s) => s === 2 && controller.abort()) },
      ),
    );
    const resumed = tmp();
    const ctx = context(resumed, { evalSet: 'evalThree' }, { resumeFrom: path.join(first, 'checkpoint-last') });
    await runTraining(config, ctx);
    const row = ctx.reporter.lines.find((l) => l.startsWith('retrieval.i2t_R@1'));
    expect(row).toBeDefined();
    expect(row!.split(/\s+/)).toHaveLength(3);
    expect(row).not.toMatch(/\s-\s/);
    const again = context(tmp(), { evalSet: 'evalThree' }, { resumeFrom: path.join(resumed, 'checkpoint-last') });
    await runTraining(config, again);
    expect(again.reporter.lines.join('\n')).not.toContain('NaN');
    expect(again.reporter.lines.join('\n')).toContain('nothing left to train');
  });

  test('a changed batch_size is refused unless forced', async () => {
    const first = tmp();
    await runTraining(trainConfigSchema.parse({ batch_size: 4, max_steps: 2 }), context(first));
    const from = path.join(first, 'checkpoint-last');
    const out = tmp();
    const run = runTraining(trainConfigSchema.parse({ batch_size: 3, max_steps: 4 }), context(out, {}, { resumeFrom: from }));
    await expect(run).rejects.toMatchObject({
      code: 'E_CHECKPOINT',
      message: expect.stringContaining('batch_size 4'),
      hint: expect.stringContaining('--force'),
    });
    const forced = context(tmp(), {}, { resumeFrom: from, force: true });
    const summary = await runTraining(trainConfigSchema.parse({ batch_size: 3, max_steps: 4 }), forced);
    expect(summary.steps).toBe(4);
    expect(forced.reporter.lines.some((l) => l.startsWith('warning:') && l.includes('batch_size'))).toBe(true);
  });
});

describe('output folder failures', () => {
  const errno = (code: string, syscall: string, file: string) =>
    Object.assign(new Error(`${code}: ${syscall} '${file}'`), { code, syscall, path: file });

  test('a read-only folder is reported as such (not as the ENOENT of a recursive mkdir), with the path', async () => {
    const parent = tmp();
    const out = path.join(parent, 'runs', 'x');
    const real = fsp.mkdir;
    // Node's recursive mkdir reports ENOENT on a read-only file system; a plain mkdir says EROFS.
    jest.spyOn(fsp, 'mkdir').mockImplementation(async (p, options) => {
      if (String(p).startsWith(path.join(parent, 'runs')))
        throw errno((options as { recursive?: boolean })?.recursive ? 'ENOENT' : 'EROFS', 'mkdir', String(p));
      return real(p, options);
    });
    const run = runTraining(trainConfigSchema.parse({ batch_size: 4, max_steps: 1 }), context(out));
    await expect(run).rejects.toMatchObject({
      code: 'E_IO',
      message: expect.stringMatching(new RegExp(`${path.join(parent, 'runs').replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}.*read-only`)),
    });
  });

  test('the feature cache folder on a read-only disk: the same real cause', async () => {
    const out = tmp();
    const features = path.join(out, 'features');
    const real = fsp.mkdir;
    jest.spyOn(fsp, 'mkdir').mockImplementation(async (p, options) => {
      if (String(p) === features) throw errno((options as { recursive?: boolean })?.recursive ? 'ENOENT' : 'EROFS', 'mkdir', String(p));
      return real(p, options);
    });
    const run = runTraining(trainConfigSchema.parse({ batch_size: 4, max_steps: 1, strategy: 'feature-based' }), context(out));
    await expect(run).rejects.toMatchObject({
      code: 'E_IO',
      message: `cannot create ${features}: it is on a read-only file system (EROFS)`,
    });
  });

  test('a full disk at start names the path and leaves no empty files or folders', async () => {
    const parent = tmp();
    const out = path.join(parent, 'run');
    // A full disk still creates the (empty) file, then fails the write.
    const full =
      <A extends unknown[]>(real: (file: fs.PathLike, data: string, ...rest: A) => Promise<void>) =>
      async (file: fs.PathLike, data: string, ...rest: A) => {
        if (!String(file).startsWith(out) || data === '') return real(file, data, ...rest);
        await real(file, '', ...rest);
        throw errno('ENOSPC', 'write', String(file));
      };
    const [appendFile, writeFile] = [full(fsp.appendFile), full(fsp.writeFile as never)];
    jest.spyOn(fsp, 'appendFile').mockImplementation(appendFile as typeof fsp.appendFile);
    jest.spyOn(fsp, 'writeFile').mockImplementation(writeFile as typeof fsp.writeFile);
    const run = runTraining(trainConfigSchema.parse({ batch_size: 4, max_steps: 1 }), context(out));
    const error = (await run.catch((e: unknown) => e)) as { code: string; message: string };
    expect(error.code).toBe('E_IO');
    expect(error.message).toContain(path.join(out, 'metrics.jsonl'));
    expect(error.message).toContain('no space left');
    expect(fs.existsSync(out)).toBe(false);
  });

  test('a run that fails during setup leaves no run folder behind', async () => {
    const parent = tmp();
    const out = path.join(parent, 'run');
    const ctx = context(out);
    const run = runTraining(trainConfigSchema.parse({ batch_size: 4, max_steps: 1 }), {
      ...ctx,
      recipe: { ...ctx.recipe, loss: { type: 'no-such-loss' } },
    });
    await expect(run).rejects.toMatchObject({ code: 'E_UNKNOWN_ID' });
    expect(fs.readdirSync(parent)).toEqual([]);
  });
});
