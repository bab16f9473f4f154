import '@tensorflow/tfjs-backend-cpu';
import * as tf from '@tensorflow/tfjs-core';
import { beforeAll, describe, expect, test } from '@jest/globals';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import type { BatchPosition, Dataset, DatasetProvider, Example, Objective, ObjectiveBatch } from '@mmft/core';
import { registerGradients } from '@mmft/core/nn';
import { DATASETS, makeExamples, memoryDataset, recordingReporter, registry, tinyArchitecture } from '../fixtures.test-helper';
import { runTraining, trainConfigSchema } from '../index';
import { firstBatches, overfitMicroSteps } from './overfit';
import { sanityLines, sanityVerdict } from './verdict';

beforeAll(async () => {
  await tf.setBackend('cpu');
  registerGradients();
});

/** A dataset of `examples` that records how it was iterated. */
function dataset(examples: Example[], calls: unknown[] = []): Dataset {
  return {
    task: 'retrieval',
    size: examples.length,
    async *iterate(options = {}) {
      calls.push(options);
      yield* (options.shuffle ? [...examples].reverse() : examples).slice(options.startAt ?? 0);
    },
  };
}

/** An objective whose batches say which examples at which positions they were collated from. */
function recordingObjective(): Objective & { collated: string[] } {
  const collated: string[] = [];
  return {
    collated,
    emits: [],
    trainsModel: true,
    canEvaluate: false,
    async collate(examples: readonly Example[], at: BatchPosition) {
      collated.push(`${at.epoch}:${at.positions.join(',')}:${examples.map((e) => e.id).join(',')}`);
      return { count: 1, dispose: () => undefined } as unknown as ObjectiveBatch;
    },
    loss: () => tf.scalar(0),
    parameters: () => [],
    evaluate: async function* () {},
    dispose: () => undefined,
  };
}

const start = { seed: 1, batchSize: 4, dropLast: false, epoch: 0, position: 0 };

describe('overfit_batches data', () => {
  test('the first 2 batches, unshuffled, collated at the same positions on every pass', async () => {
    const calls: unknown[] = [];
    const objective = recordingObjective();
    const source = overfitMicroSteps(objective, dataset(makeExamples(12, 'retrieval'), calls), start, 2);
    const steps = [];
    for (let i = 0; i < 6; i++) steps.push((await source.next()).value!);
    await source.return(undefined);
    const first = '0:0,1,2,3:ex-0,ex-1,ex-2,ex-3';
    const second = '0:4,5,6,7:ex-4,ex-5,ex-6,ex-7';
    expect(objective.collated).toEqual([first, second, first, second, first, second]);
    expect(steps.map((s) => [s.epoch, s.nextPosition])).toEqual([
      [0, 4],
      [0, 8],
      [1, 4],
      [1, 8],
      [2, 4],
      [2, 8],
    ]);
    // Drawn once, in the dataset's own order.
    expect(calls).toEqual([{ shuffle: false }]);
  });

  test('a resumed run starts mid-pass where the checkpoint says', async () => {
    const objective = recordingObjective();
    const source = overfitMicroSteps(objective, dataset(makeExamples(12, 'retrieval')), { ...start, epoch: 3, position: 4 }, 2);
    const a = (await source.next()).value!;
    const b = (await source.next()).value!;
    await source.return(undefined);
    expect([a.epoch, a.nextPosition, b.epoch, b.nextPosition]).toEqual([3, 8, 4, 4]);
    expect(objective.collated).toEqual(['0:4,5,6,7:ex-4,ex-5,ex-6,ex-7', '0:0,1,2,3:ex-0,ex-1,ex-2,ex-3']);
  });

  test('a short dataset gives fewer batches; its partial last batch follows the batch rule', async () => {
    const five = dataset(makeExamples(5, 'retrieval'));
    expect((await firstBatches(five, start, 3)).map((b) => b.positions)).toEqual([[0, 1, 2, 3], [4]]);
    expect((await firstBatches(five, { ...start, minBatch: 2 }, 3)).map((b) => b.positions)).toEqual([[0, 1, 2, 3]]);
    await expect(firstBatches(dataset(makeExamples(3, 'retrieval')), { ...start, dropLast: true }, 2)).rejects.toThrow(
      /not one batch of 4/,
    );
  });
});

describe('sanity verdict', () => {
  const history = (losses: number[]) => losses.map((loss, i) => ({ kind: 'train', step: i + 1, loss }));

  test('first loss, mean of the last whole passes, ratio and verdict', () => {
    // 2 batches, 1 per step: a pass is 2 steps, the window 4 steps (at least 3, whole passes).
    const v = sanityVerdict([...history([2, 1.5, 1, 0.5, 0.3, 0.1, 0.1, 0.1]), { kind: 'eval', step: 8, eval_loss: 9 }], {
      batches: 2,
      microsPerStep: 1,
    });
    expect(v).toMatchObject({ firstLoss: 2, window: 4, steps: 8, fallsToZero: true });
    expect(v!.lastLoss).toBeCloseTo((0.3 + 0.1 + 0.1 + 0.1) / 4, 12);
    expect(v!.ratio).toBeCloseTo(0.15 / 2, 12);
    // 3 batches, 2 micro-batches a step: a pass is 2 steps, the window 4.
    expect(sanityVerdict(history([1, 1, 1, 1, 0.9]), { batches: 3, microsPerStep: 2 })).toMatchObject({
      window: 4,
      lastLoss: 0.975,
      fallsToZero: false,
    });
    // Exactly 10% is not below it; fewer steps than the window average what there is.
    expect(sanityVerdict(history([1, 0.1, 0.1]), { batches: 1, microsPerStep: 1 })).toMatchObject({ window: 3, fallsToZero: false });
    expect(sanityVerdict(history([Number.NaN, 0]), { batches: 2, microsPerStep: 1 })!.fallsToZero).toBe(false);
    expect(sanityVerdict([], { batches: 2, microsPerStep: 1 })).toBeUndefined();
  });

  test('the summary tells a loss that levels off from one that does not fall', () => {
    const lines = (losses: number[]) => sanityLines(sanityVerdict(history(losses), { batches: 1, microsPerStep: 1 })!).join('\n');
    expect(lines([2, 0.1, 0.1, 0.1])).toContain('falls towards zero: yes (last below 10% of first)');
    expect(lines([2, 0.6, 0.6, 0.6])).toContain('falls towards zero: no: it falls to 30% of the first but levels off above 10%');
    expect(lines([2, 1.9, 1.9, 1.9])).toContain('falls towards zero: no: the model cannot fit 1 batch (the last loss is 95% of the first)');
  });
});

describe('train.overfit_batches in the loop', () => {
  test('2 fixed batches: the loss falls below 10% of the first, reported in metrics.jsonl and the summary', async () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'mmft-sanity-'));
    const reporter = recordingReporter();
    const calls: unknown[] = [];
    const recorded: DatasetProvider<{ name: string }> = {
      ...memoryDataset,
      id: 'recorded',
      open: async (c) => dataset(DATASETS[c.name]!, calls),
    };
    await runTraining(trainConfigSchema.parse({ batch_size: 4, overfit_batches: 2, max_steps: 40, lr: 3e-2, log_every: 100 }), {
      recipe: {
        name: 'tiny',
        seed: 7,
        model: { type: 'tiny-dual', config: { seed: 3 } },
        data: { train: { type: 'recorded', name: 'train' } },
        loss: { type: 'test-infonce' },
        metrics: [],
      },
      baseDir: dir,
      outputDir: dir,
      resolver: registry([recorded]),
      reporter,
    });
    const entries = fs
      .readFileSync(path.join(dir, 'metrics.jsonl'), 'utf8')
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l) as Record<string, number | string>);
    const train = entries.filter((e) => e.kind === 'train').map((e) => e.loss as number);
    // An epoch is one pass over the 2 batches (8 of the 12 examples).
    expect(
      entries
        .filter((e) => e.kind === 'train')
        .slice(0, 3)
        .map((e) => e.epoch),
    ).toEqual([0.5, 1, 1.5]);
    const final = entries[entries.length - 1]!;
    expect(final).toMatchObject({
      kind: 'sanity',
      step: 40,
      overfit_batches: 2,
      first_loss: train[0],
      falls_to_zero: 'yes',
      last_window: 4,
    });
    const last = train.slice(-4).reduce((s, x) => s + x, 0) / 4;
    expect(final.last_loss).toBeCloseTo(last, 10);
    expect(last).toBeLessThan(0.1 * train[0]!);
    expect(reporter.lines.some((l) => l.includes('falls towards zero: yes'))).toBe(true);
    // 40 steps drew data.train once, unshuffled (the fixed batches are kept, not drawn again).
    expect(calls).toEqual([{ shuffle: false }]);
    expect(reporter.lines.some((l) => l.startsWith('sanity run: training on the first 2 batch(es)'))).toBe(true);
  });
});

describe('training mode', () => {
  test('a model loaded in eval mode (as from_pretrained returns it) trains in training mode with no evaluation before', async () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'mmft-sanity-'));
    const modes: boolean[] = [];
    // BLIP-2 and others load with root.eval(), as transformers' from_pretrained does.
    const evalLoaded: typeof tinyArchitecture = {
      ...tinyArchitecture,
      id: 'tiny-eval',
      modelTypes: ['tiny-eval'],
      async fromConfig(config, context) {
        const model = await tinyArchitecture.fromConfig(config, context);
        model.root.eval();
        return { ...model, forward: (inputs) => (modes.push(model.root.training), model.forward(inputs)) };
      },
    };
    await runTraining(trainConfigSchema.parse({ batch_size: 4, overfit_batches: 1, max_steps: 2 }), {
      recipe: {
        seed: 7,
        model: { type: 'tiny-eval', config: { seed: 3 } },
        data: { train: { type: 'memory', name: 'train' } },
        loss: { type: 'test-infonce' },
        metrics: [],
      },
      baseDir: dir,
      outputDir: dir,
      resolver: registry([evalLoaded]),
      reporter: recordingReporter(),
    });
    expect(modes.length).toBeGreaterThan(0);
    expect(modes.every((m) => m)).toBe(true);
  });
});
