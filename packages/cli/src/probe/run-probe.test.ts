// runProbe with a stand-in objective and model whose numbers are functions of each example's image,
// so every condition's result is known by hand: the log-likelihood is −Σ loss / Σ tokens over the
// evaluated chunks, agreement counts answers equal to the true-image ones, image-less examples are
// left out, and a model with the attention hook gets its per-layer mass on image positions per
// condition (one without it is reported as not available).
import '@tensorflow/tfjs-backend-cpu';
import { beforeAll, describe, expect, test } from '@jest/globals';
import * as tf from '@tensorflow/tfjs-core';
import type { AttentionProbing, EvalPart, Example, ImageRef, ModelInputs, Objective, VisionLanguageModel } from '@mmft/core';
import { derangement } from './conditions';
import { probeHtml, probeLines } from './report';
import { runProbe } from './run-probe';

beforeAll(async () => {
  await tf.setBackend('cpu');
});

/** Each image file's "content": the number in its name; the blank image is 0. */
const valueOf = (image: ImageRef | undefined): number => (image?.kind === 'file' ? Number(/(\d+)/.exec(image.path)![1]) : 0);
const ex = (i: number, withImage = true): Example =>
  withImage
    ? { task: 'caption', id: `e${i}`, captions: ['x'], image: { kind: 'file', path: `/img/${i + 1}.png` } }
    : { task: 'instruction', id: `t${i}`, turns: [{ role: 'user', content: 'hi' }] };

/** Loss 0.5·v per token, 2 tokens per example; the answer names the image's value (≥ 3 all read "big"). */
const objective: Objective = {
  emits: ['text'],
  trainsModel: true,
  canEvaluate: true,
  collate: async (examples) => {
    const pixelValues = tf.tensor1d(examples.map((e) => valueOf(e.image)));
    return { inputs: { pixelValues }, examples, count: 1, dispose: () => pixelValues.dispose() };
  },
  loss: () => tf.scalar(0),
  parameters: () => [],
  async *evaluate(data, options): AsyncIterable<EvalPart> {
    let chunk: Example[] = [];
    const part = (c: Example[]): EvalPart => ({
      lossSum: c.reduce((s, e) => s + 2 * 0.5 * valueOf(e.image), 0),
      count: 2 * c.length,
      inputs: c.map((e) => ({
        kind: 'text',
        id: e.id,
        prediction: valueOf(e.image) >= 3 ? 'big' : `v${valueOf(e.image)}`,
        references: ['x'],
      })),
    });
    for await (const e of data!.iterate()) {
      chunk.push(e);
      if (chunk.length === options.batchSize) {
        yield part(chunk);
        chunk = [];
      }
    }
    if (chunk.length > 0) yield part(chunk);
  },
  dispose: () => undefined,
};

const baseModel = {
  modelType: 'stand-in',
  family: 'vision-to-llm',
  processor: { towers: {}, imageProcessing: { size: 4, cropSize: 4, mean: [0.5, 0.5, 0.5], std: [0.5, 0.5, 0.5] } },
} as unknown as VisionLanguageModel;

/** Two layers; positions [image, text]; the text query puts v/10 (layer 0) and 1 − v/10 (layer 1) on the image. */
const probing = {
  ...baseModel,
  attentionProbabilities(inputs: ModelInputs) {
    const v = inputs.pixelValues!.arraySync() as number[];
    const layer = (f: (x: number) => number) =>
      tf.tensor4d(
        v.flatMap((x) => [1, 0, f(x), 1 - f(x)]),
        [v.length, 1, 2, 2],
      );
    return {
      probabilities: [layer((x) => x / 10), layer((x) => 1 - x / 10)],
      imagePositions: v.map(() => [true, false]),
      attentionMask: v.map(() => [1, 1]),
    };
  },
} as VisionLanguageModel & AttentionProbing;

describe('runProbe', () => {
  const examples = [ex(0), ex(1), ex(2), ex(3), ex(0, false)];
  test('log-likelihood, agreement and attention of each condition by hand; image-less examples left out', async () => {
    const result = await runProbe({ model: probing, objective, metrics: [], examples, batchSize: 3, seed: 9, source: 'test' });
    expect(result.examples).toBe(4);
    expect(result.imageless).toBe(1);
    expect(result.attentionUnavailable).toBeUndefined();
    const order = derangement(4, 9)!;
    const values = {
      true: [1, 2, 3, 4],
      blank: [0, 0, 0, 0],
      shuffled: order.map((j) => j + 1),
    };
    const answer = (v: number) => (v >= 3 ? 'big' : `v${v}`);
    for (const [condition, vs] of Object.entries(values)) {
      const got = result.conditions[condition as 'true']!;
      expect(got.tokens).toBe(8);
      expect(got.meanLogLikelihood).toBeCloseTo(-vs.reduce((s, v) => s + v, 0) / 8, 12);
      const same = vs.filter((v, i) => answer(v) === answer(values.true[i]!)).length;
      expect(got.agreement).toBeCloseTo(same / 4, 12);
      expect(got.predictions).toEqual(Object.fromEntries(vs.map((v, i) => [`e${i}`, answer(v)])));
      const meanV = vs.reduce((s, v) => s + v, 0) / 4;
      expect(got.attention![0]).toBeCloseTo(meanV / 10, 6);
      expect(got.attention![1]).toBeCloseTo(1 - meanV / 10, 6);
    }
    // The table: agreement in percent, Δ vs true = blank's mean log-likelihood (−0) minus true's (−10/8).
    const lines = probeLines(result);
    expect(lines[2]).toMatch(/^true image\s+100\.0%\s+-1\.2500\s+0\.0000$/);
    expect(lines[3]).toMatch(/^blank image\s+\S+%\s+0\.0000\s+1\.2500$/);
    expect(lines).toContain('left out 1 examples without an image');
    expect(lines.some((l) => /^layer 1\s+0\.7500\s+1\.0000\s+0\.7500$/.test(l))).toBe(true);
    expect(probeHtml('t', result)).toMatch(/attention mass on image positions by layer/);
  });

  test('the kinds asked of the objective: text and vqa, plus instruction only when a metric reads it', async () => {
    const asked: string[][] = [];
    const spy: Objective = {
      ...objective,
      emits: ['text', 'vqa', 'instruction'],
      evaluate: (data, options) => {
        asked.push([...options.kinds]);
        return objective.evaluate(data, options);
      },
    };
    await runProbe({ model: baseModel, objective: spy, metrics: [], examples: [ex(0), ex(1)], batchSize: 2, seed: 0, source: 'test' });
    expect(asked[0]).toEqual(['text', 'vqa']);
    asked.length = 0;
    const instruction = {
      id: 'instruction',
      consumes: 'instruction' as const,
      metric: { reset() {}, update() {}, compute: () => ({ scores: { f1: 0 } }) },
    };
    await runProbe({
      model: baseModel,
      objective: spy,
      metrics: [instruction],
      examples: [ex(0), ex(1)],
      batchSize: 2,
      seed: 0,
      source: 'test',
    });
    expect(asked[0]).toEqual(['text', 'vqa', 'instruction']);
  });

  test('a model without the hook: attention reported as not available; one example has no shuffled condition', async () => {
    const result = await runProbe({ model: baseModel, objective, metrics: [], examples: [ex(4)], batchSize: 2, seed: 0, source: 'test' });
    expect(result.attentionUnavailable).toMatch(/^not available for this model \(stand-in/);
    expect(result.conditions.true!.attention).toBeUndefined();
    expect(result.conditions.shuffled).toBeUndefined();
    expect(result.conditions.blank!.meanLogLikelihood).toBeCloseTo(0, 12);
    expect(probeLines(result).at(-1)).toMatch(/^attention mass on image positions: not available for this model/);
  });

  test('a model that reads no images, or data without images, is an error naming the fix', async () => {
    const lm = { ...baseModel, family: 'language-model' } as VisionLanguageModel;
    await expect(runProbe({ model: lm, objective, metrics: [], examples, batchSize: 2, seed: 0, source: 'test' })).rejects.toThrow(
      /does not generate text from images/,
    );
    await expect(
      runProbe({
        model: baseModel,
        objective,
        metrics: [],
        examples: [ex(0, false)],
        batchSize: 2,
        seed: 0,
        source: 'data.eval of r.yaml',
      }),
    ).rejects.toThrow(/data\.eval of r\.yaml has no example with an image/);
  });
});
