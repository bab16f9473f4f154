// The eval shard and its merge without Redis: what a shard evaluates (the objective's range, the
// whole-set refusal), how its parts cross JSON, and the merge (loss sums, one metric update per
// part in shard order, as trainer-standard's eval/evaluate.ts feeds them), against hand sums.
import { describe, expect, test } from '@jest/globals';
import type { Dataset, EvalPart, FedMetric, MetricInput, Objective, TextInput, VisionLanguageModel } from '@mmft/core';
import { MmftError } from '@mmft/core';
import { createCliContext } from '../context';
import { LruWorkerCache } from './cache';
import { evalShardHandler, evaluateRange, jsonableInput, type EvalShardResult } from './eval-shard';
import { flatScores, mergeEvalShards } from './eval-merge';

const text = (id: string): TextInput => ({ kind: 'text', id, prediction: `p${id}`, references: [`r${id}`] });

/** An objective over `n` examples, batches of `batchSize`: part i has loss i + 0.5 over i + 1 items; it records the ranges asked. */
function fakeObjective(n: number, wholeSetKinds?: Objective['wholeSetKinds']) {
  const asked: unknown[] = [];
  const objective = {
    emits: ['text', 'retrieval'],
    evalLoss: 'token-cross-entropy',
    wholeSetKinds,
    async *evaluate(_data: Dataset | undefined, o: { batchSize: number; range?: { start: number; end: number } }) {
      asked.push(o.range);
      const start = o.range?.start ?? 0;
      const end = o.range?.end ?? n;
      for (let at = start; at < end; at += o.batchSize) {
        const b = at / o.batchSize;
        const ids = Array.from({ length: Math.min(o.batchSize, end - at) }, (_, i) => String(at + i));
        yield { lossSum: b + 0.5, count: b + 1, inputs: ids.map(text) } satisfies EvalPart;
      }
    },
  } as unknown as Objective;
  return { objective, asked };
}

function recorder(id = 'rec'): FedMetric & { batches: string[][] } {
  const batches: string[][] = [];
  return {
    id,
    consumes: 'text',
    batches,
    metric: {
      reset: () => void (batches.length = 0),
      update: (batch) => void batches.push((Array.isArray(batch) ? batch : [batch]).map((i: MetricInput) => (i as TextInput).id)),
      compute: () => ({ scores: { batches: batches.length }, perItem: { x: { n: 1 } } }),
    },
  };
}

const session = (objective: Objective, metrics: FedMetric[]) => ({
  model: {} as VisionLanguageModel,
  objective,
  metrics,
  dataset: {} as Dataset,
  batchSize: 2,
  source: 'data.eval of r.yaml',
});

describe('evaluateRange', () => {
  test('a range covering the set is one pass without range; a part is asked with its range', async () => {
    const { objective, asked } = fakeObjective(5);
    const whole = await evaluateRange(session(objective, [recorder()]), { start: 0, end: 5 }, 5);
    const part = await evaluateRange(session(objective, [recorder()]), { start: 2, end: 4 }, 5);
    expect(asked).toEqual([undefined, { start: 2, end: 4 }]);
    expect(whole.parts.map((p) => p.count)).toEqual([1, 2, 3]);
    expect(part.parts).toEqual([whole.parts[1]]);
    expect(whole.emits).toEqual(['text', 'retrieval']);
    expect(whole.evalLoss).toBe('token-cross-entropy');
  });

  test('a whole-set kind that a metric reads is refused on a part, naming the metric; fine on the whole set', async () => {
    const { objective } = fakeObjective(4, ['text']);
    const error = await evaluateRange(session(objective, [recorder('caption')]), { start: 2, end: 4 }, 4).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(MmftError);
    expect((error as MmftError).code).toBe('E_UNSUPPORTED');
    expect((error as MmftError).message).toBe(
      'metric "caption" reads text inputs, which this objective computes by comparing every eval example with every other, so they cannot be computed shard by shard',
    );
    expect((await evaluateRange(session(objective, [recorder('caption')]), { start: 0, end: 4 }, 4)).parts).toHaveLength(2);
    const misaligned = await evaluateRange(session(fakeObjective(4).objective, []), { start: 1, end: 3 }, 4).catch((e: unknown) => e);
    expect((misaligned as MmftError).message).toBe('a shard starting at example 1 does not start a batch of 2');
  });
});

describe('evalShardHandler', () => {
  test('a path this worker does not see fails the shard, naming it and the shared-filesystem rule', async () => {
    const spec = { recipe: '/nonexistent/r.yaml', set: [], plugin: [], cwd: '/', outputDir: '/tmp/x', batchSize: 2, total: 4 };
    const error = await evalShardHandler
      .run(spec, { start: 0, end: 2 }, new LruWorkerCache(), createCliContext({ builtins: [] }))
      .catch((e: unknown) => e);
    expect((error as MmftError).code).toBe('E_INPUT');
    expect((error as MmftError).message).toBe('the recipe /nonexistent/r.yaml does not exist on this worker');
    expect((error as MmftError).hint).toMatch(/at the paths the coordinator saw: run them where those paths exist \(a shared filesystem\)/);
  });
});

describe('jsonableInput', () => {
  test('typed arrays become plain arrays of the same numbers; text inputs pass as they are', () => {
    const embedding = new Float32Array([0.1, -2.5, 1 / 3]);
    const input: MetricInput = {
      kind: 'retrieval',
      images: [{ id: 'a', embedding }],
      texts: [{ imageId: 'a', embedding }],
      similarity: { matrix: [new Float32Array([0.25, 0.7])], textToImage: new Int32Array([0, 0]) },
    };
    const back = JSON.parse(JSON.stringify(jsonableInput(input))) as typeof input;
    expect(back.images![0]!.embedding).toEqual(Array.from(embedding));
    expect(back.similarity!.matrix[0]).toEqual([0.25, Math.fround(0.7)]);
    expect(back.similarity!.textToImage).toEqual([0, 0]);
    const t = text('1');
    expect(jsonableInput(t)).toBe(t);
  });
});

describe('mergeEvalShards', () => {
  const shard = (parts: [number | null, number, string[]][]): EvalShardResult => ({
    emits: ['text'],
    evalLoss: 'token-cross-entropy',
    parts: parts.map(([lossSum, count, ids]) => ({ lossSum, count, inputs: ids.map(text) })),
  });

  test('sums the loss over parts in shard order and updates the metrics once per part with inputs', () => {
    const rec = recorder();
    const doc = mergeEvalShards(
      [
        shard([
          [1.5, 3, ['a', 'b']],
          [2.25, 5, []],
        ]),
        shard([[0.75, 2, ['c']]]),
      ],
      [rec],
      { recipe: 'r.yaml', examples: 3, producer: 'objective "x"' },
    );
    expect(rec.batches).toEqual([['a', 'b'], ['c']]);
    expect(doc).toEqual({
      recipe: 'r.yaml',
      examples: 3,
      eval_loss: (1.5 + 2.25 + 0.75) / 10,
      perplexity: Math.exp((1.5 + 2.25 + 0.75) / 10),
      rec: { batches: 2, per_item: { x: { n: 1 } }, groups: undefined },
    });
    expect(flatScores(doc, [rec])).toEqual({ eval_loss: 0.45, perplexity: Math.exp(0.45), 'rec.batches': 2 });
  });

  test('a metric fed nothing is named; a null loss (NaN across JSON) stays NaN', () => {
    expect(() => mergeEvalShards([shard([[1, 1, []]])], [recorder()], { recipe: 'r', examples: 1, producer: 'objective "x"' })).toThrow(
      'metric "rec" reads text inputs, but objective "x" produced none from data.eval',
    );
    const doc = mergeEvalShards([{ emits: ['text'], parts: [{ lossSum: null, count: 1, inputs: [text('a')] }] }], [recorder()], {
      recipe: 'r',
      examples: 1,
      producer: 'p',
    });
    expect(doc.eval_loss).toBeNaN();
    expect('perplexity' in doc).toBe(false);
  });
});
