// The few-shot sweep's parts checked against hand computations: --shots parsing (order, duplicates,
// bad items), the recipe copy at k shots (other settings kept, the input untouched, other
// objectives refused), and runShotsSweep with a stand-in objective that answers the first k of four
// VQA questions right at k shots, so each pass's accuracy is 25·k % and its loss (4 + k) / 8.
import { describe, expect, test } from '@jest/globals';
import { InvalidArgumentError } from 'commander';
import { fedMetric, MmftError, parseConfig, type EvalPart, type Example, type Objective, type VisionLanguageModel } from '@mmft/core';
import { vqaMetric } from '@mmft/metric-vqa';
import { parseShots, runShotsSweep, withShots } from './shots';

describe('parseShots', () => {
  test('comma-separated whole numbers, sorted ascending', () => {
    expect(parseShots('0,2,4')).toEqual([0, 2, 4]);
    expect(parseShots(' 4, 0 ,2')).toEqual([0, 2, 4]);
    expect(parseShots('8')).toEqual([8]);
  });
  test.each([
    ['0,,2', '""'],
    ['0,-1', '"-1"'],
    ['1.5', '"1.5"'],
    ['two', '"two"'],
  ])('"%s" is refused naming the item %s', (value, item) => {
    expect(() => parseShots(value)).toThrow(InvalidArgumentError);
    expect(() => parseShots(value)).toThrow(`got ${item} in "${value}"`);
  });
  test('a duplicate is refused', () => {
    expect(() => parseShots('0,2,0')).toThrow('--shots lists 0 twice in "0,2,0"');
  });
});

describe('withShots', () => {
  const recipe = {
    model: { type: 'idefics', checkpoint: './m' },
    objective: { type: 'causal-lm', max_length: 64, few_shot: { support: { type: 'shapes', domain: 'B' }, seed: 3, shots: 1 } },
  };
  test('sets few_shot.shots and keeps every other setting; the input is not changed', () => {
    const before = JSON.stringify(recipe);
    const copy = withShots(recipe, 4, 'r.yaml');
    expect(copy).toEqual({
      model: recipe.model,
      objective: { type: 'causal-lm', max_length: 64, few_shot: { support: { type: 'shapes', domain: 'B' }, seed: 3, shots: 4 } },
    });
    expect(JSON.stringify(recipe)).toBe(before);
  });
  test('an absent few_shot or objective section becomes one', () => {
    expect(withShots({ objective: { type: 'causal-lm' } }, 2, 'r.yaml').objective).toEqual({ type: 'causal-lm', few_shot: { shots: 2 } });
    const llm = { family: 'vision-to-llm' } as VisionLanguageModel;
    expect(withShots({}, 0, 'r.yaml', llm).objective).toEqual({ type: 'causal-lm', few_shot: { shots: 0 } });
  });
  test('another objective is E_CONFIG naming the recipe and the objective', () => {
    const run = () => withShots({ objective: { type: 'contrastive' } }, 2, 'clip.yaml');
    expect(run).toThrow(MmftError);
    expect(run).toThrow("clip.yaml: --shots needs the causal-lm objective (objective.few_shot), but the recipe's objective is contrastive");
    // An absent objective on a dual encoder defaults to contrastive, so it is refused too.
    expect(() => withShots({}, 2, 'clip.yaml', { family: 'dual-encoder' } as unknown as VisionLanguageModel)).toThrow(
      "the recipe's objective is contrastive",
    );
  });
});

describe('runShotsSweep', () => {
  const truths = ['red', 'blue', 'two', 'circle'];
  const examples: Example[] = truths.map((answer, i) => ({
    task: 'vqa',
    id: `q${i}`,
    image: { kind: 'file', path: `/${i}.png` },
    question: `question ${i}?`,
    answer,
  }));
  const made: number[] = [];
  const disposed: number[] = [];
  const stand = (k: number): Objective => ({
    emits: ['vqa'],
    trainsModel: true,
    canEvaluate: true,
    collate: async () => {
      throw new Error('not used');
    },
    loss: () => {
      throw new Error('not used');
    },
    parameters: () => [],
    async *evaluate(data): AsyncIterable<EvalPart> {
      let i = 0;
      for await (const e of data!.iterate()) {
        const q = e as Extract<Example, { task: 'vqa' }>;
        // A right answer sums 2 over 2 items, a wrong one 1: the pass's mean is (2k + (4 − k)) / 8.
        const right = i < k;
        yield {
          lossSum: right ? 2 : 1,
          count: 2,
          inputs: [{ kind: 'vqa', id: q.id, prediction: right ? q.answer : 'no', answers: Array(10).fill(q.answer) }],
        };
        i++;
      }
    },
    dispose: () => void disposed.push(k),
  });
  test('one pass per k with its own objective: accuracy 25·k, loss (4 + k) / 8, predictions by id, each objective disposed', async () => {
    const entries = await runShotsSweep({
      shots: [0, 2, 4],
      createObjective: async (k) => {
        made.push(k);
        return { objective: stand(k), metrics: [fedMetric(vqaMetric, parseConfig(vqaMetric, {}), 'vqa')], batchSize: 2 };
      },
      examples,
      source: 'test',
    });
    expect(made).toEqual([0, 2, 4]);
    expect(disposed).toEqual([0, 2, 4]);
    expect(entries.map((e) => [e.shots, e.metrics['vqa.accuracy'], e.evalLoss])).toEqual([
      [0, 0, 4 / 8],
      [2, 50, 6 / 8],
      [4, 100, 8 / 8],
    ]);
    expect(entries[1]!.predictions).toEqual({ q0: 'red', q1: 'blue', q2: 'no', q3: 'no' });
  });
  test('an objective that reports no loss gives no evalLoss; a failing pass still disposes its objective', async () => {
    const noLoss: Objective = {
      ...stand(1),
      async *evaluate(data) {
        for await (const e of data!.iterate())
          yield { lossSum: 0, count: 0, inputs: [{ kind: 'vqa', id: e.id, prediction: 'no', answers: ['x'] }] };
      },
    };
    const metrics = [fedMetric(vqaMetric, parseConfig(vqaMetric, {}), 'vqa')];
    const [entry] = await runShotsSweep({
      shots: [1],
      createObjective: async () => ({ objective: noLoss, metrics, batchSize: 4 }),
      examples,
      source: 'test',
    });
    expect(entry).not.toHaveProperty('evalLoss');
    expect(entry!.metrics['vqa.accuracy']).toBe(0);
    disposed.length = 0;
    const failing = runShotsSweep({
      shots: [3],
      createObjective: async () => ({ objective: stand(3), metrics: [], batchSize: 4 }),
      examples,
      source: 'test',
    });
    await expect(failing).rejects.toThrow('lists no metrics');
    expect(disposed).toEqual([3]);
  });
});
