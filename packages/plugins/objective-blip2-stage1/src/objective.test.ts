// The stage-1 losses against float64 hand computations from the fake model's own outputs (the
// objective's part: similarities, temperature, smoothing, negatives, pairs, shift, masks), the
// seeded hard-negative draws, gradients, evaluation and the errors.
import 'reflect-metadata';
import '@tensorflow/tfjs-backend-cpu';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import * as tf from '@tensorflow/tfjs-core';
import { describe, expect, test } from '@jest/globals';
import {
  isMmftError,
  type Example,
  type Objective,
  type ObjectiveBatch,
  type QueryTransformerModel,
  type RetrievalInput,
} from '@mmft/core';
import { describeObjective } from '@mmft/core/testing';
import { blip2Stage1ConfigSchema } from './config';
import { captions, DEC, fakeContext, fakeQueryTransformer } from './fake-model.test-helper';
import { drawNegatives, hardNegatives } from './losses';
import type { Stage1Batch } from './objective';
import { blip2Stage1Provider } from './plugin';
import { preCaption } from './texts';

const tmp = () => fs.mkdtempSync(path.join(os.tmpdir(), 'mmft-blip2-stage1-'));

async function objectiveWith(config: Record<string, unknown>, model = fakeQueryTransformer(), evalSet?: readonly Example[]) {
  const context = await fakeContext(tmp(), { model, eval: evalSet });
  return { objective: await blip2Stage1Provider.create(blip2Stage1ConfigSchema.parse(config), context), model };
}

const only = (part: 'itc' | 'itm' | 'itg') => ({ weights: { itc: 0, itm: 0, itg: 0, [part]: 1 } });

const rows = (t: tf.Tensor): number[][] => t.arraySync() as number[][];
const lossOf = (objective: Objective, batch: ObjectiveBatch) => tf.tidy(() => objective.loss(batch)).arraySync() as number;

/** log-softmax of a row in float64. */
function logSoftmax(row: readonly number[]): number[] {
  const m = Math.max(...row);
  const lse = m + Math.log(row.reduce((s, x) => s + Math.exp(x - m), 0));
  return row.map((x) => x - lse);
}

/** torch's cross_entropy(label_smoothing=ε) of one row. */
function smoothedCe(row: readonly number[], target: number, epsilon: number): number {
  const lp = logSoftmax(row);
  return -(1 - epsilon) * lp[target]! - (epsilon * lp.reduce((s, x) => s + x, 0)) / lp.length;
}

/** Hand ITC sims [image][text] = max_q imageFeats·textFeats, from the model's features. */
function handSims(model: QueryTransformerModel, batch: Stage1Batch): number[][] {
  const { imageFeats } = model.encodeImage(batch.stage1.pixelValues);
  const text = rows(model.encodeText(batch.stage1.inputIds, batch.stage1.attentionMask));
  const image = imageFeats.arraySync() as number[][][];
  return image.map((queries) => text.map((t) => Math.max(...queries.map((qf) => qf.reduce((s, x, d) => s + x * t[d]!, 0)))));
}

function handItc(model: QueryTransformerModel, batch: Stage1Batch, epsilon: number): number {
  const temp = model.temperature.arraySync() as number;
  const sims = handSims(model, batch).map((r) => r.map((s) => s / temp));
  const n = sims.length;
  const i2t = sims.reduce((s, r, i) => s + smoothedCe(r, i, epsilon), 0) / n;
  const t2i =
    sims[0]!.reduce(
      (s, _, t) =>
        s +
        smoothedCe(
          sims.map((r) => r[t]!),
          t,
          epsilon,
        ),
      0,
    ) / n;
  return (i2t + t2i) / 2;
}

/** Hand ITM: texts [pos, pos, neg] with images [pos, neg, pos], labels [1]*B + [0]*2B, plain CE. */
function handItm(model: QueryTransformerModel, batch: Stage1Batch, imageForText: number[], textForImage: number[]): number {
  const b = imageForText.length;
  const ids = rows(batch.stage1.inputIds);
  const mask = rows(batch.stage1.attentionMask);
  const textRows = [...ids.keys(), ...ids.keys(), ...textForImage];
  const imageRows = [...ids.keys(), ...imageForText, ...ids.keys()];
  const { imageEmbeds } = model.encodeImage(batch.stage1.pixelValues);
  const logits = rows(
    model.matchLogits(
      tf.tensor2d(
        textRows.map((r) => ids[r]!),
        undefined,
        'int32',
      ),
      tf.tensor2d(
        textRows.map((r) => mask[r]!),
        undefined,
        'int32',
      ),
      tf.gather(imageEmbeds, imageRows),
    ),
  );
  return logits.reduce((s, row, i) => s + smoothedCe(row, i < b ? 1 : 0, 0), 0) / (3 * b);
}

/** Hand ITG: first token → [DEC], logits t predict token t+1 over real tokens, smoothing ε. */
function handItg(model: QueryTransformerModel, batch: Stage1Batch, epsilon: number): number {
  const ids = rows(batch.stage1.inputIds).map((r) => [DEC, ...r.slice(1)]);
  const mask = rows(batch.stage1.attentionMask);
  const { imageEmbeds } = model.encodeImage(batch.stage1.pixelValues);
  const logits = model
    .groundedTextLogits(tf.tensor2d(ids, undefined, 'int32'), batch.stage1.attentionMask, imageEmbeds)
    .arraySync() as number[][][];
  let sum = 0;
  let count = 0;
  ids.forEach((row, b) => {
    for (let t = 0; t + 1 < row.length; t++) {
      if (mask[b]![t + 1] !== 1) continue;
      sum += smoothedCe(logits[b]![t]!, row[t + 1]!, epsilon);
      count += 1;
    }
  });
  return sum / count;
}

const at = (n: number, epoch = 0, first = 0) => ({ epoch, positions: Array.from({ length: n }, (_, i) => first + i) });

describe('losses equal hand computations', () => {
  test('ITC: max over queries / temperature, label-smoothed CE both ways, averaged', async () => {
    const { objective, model } = await objectiveWith(only('itc'));
    const batch = (await objective.collate(captions.slice(0, 4), at(4))) as Stage1Batch;
    expect(lossOf(objective, batch)).toBeCloseTo(
      tf.tidy(() => handItc(model, batch, 0.1)),
      5,
    );
    // no smoothing, another temperature: still the formula
    const { objective: plain, model: hot } = await objectiveWith(
      { ...only('itc'), label_smoothing: 0 },
      fakeQueryTransformer({ temperature: 0.5 }),
    );
    const b2 = (await plain.collate(captions.slice(0, 3), at(3))) as Stage1Batch;
    expect(lossOf(plain, b2)).toBeCloseTo(
      tf.tidy(() => handItc(hot, b2, 0)),
      5,
    );
    batch.dispose();
    b2.dispose();
  });

  test('ITM with two examples: the negatives are forced (each the other), 6 pairs, plain CE', async () => {
    const { objective, model } = await objectiveWith(only('itm'));
    const batch = (await objective.collate(captions.slice(1, 3), at(2, 3, 10))) as Stage1Batch;
    expect(lossOf(objective, batch)).toBeCloseTo(
      tf.tidy(() => handItm(model, batch, [1, 0], [1, 0])),
      5,
    );
    batch.dispose();
  });

  test('ITM with four examples: pairs built from the drawn negatives, never the positive', async () => {
    const { objective, model } = await objectiveWith(only('itm'));
    const batch = (await objective.collate(captions.slice(0, 4), at(4, 1, 7))) as Stage1Batch;
    const temp = model.temperature.arraySync() as number;
    const scaled = Float64Array.from(
      tf
        .tidy(() => handSims(model, batch))
        .flat()
        .map((s) => s / temp),
    );
    const { imageForText, textForImage } = hardNegatives(scaled, batch.stage1);
    imageForText.forEach((j, i) => expect(j).not.toBe(i));
    textForImage.forEach((j, i) => expect(j).not.toBe(i));
    expect(lossOf(objective, batch)).toBeCloseTo(
      tf.tidy(() => handItm(model, batch, imageForText, textForImage)),
      5,
    );
    batch.dispose();
  });

  test('ITG: [DEC] first, shifted, padding ignored, label smoothing 0.1', async () => {
    const model = fakeQueryTransformer();
    const seen: number[][] = [];
    const grounded = model.groundedTextLogits.bind(model);
    model.groundedTextLogits = (ids, mask, images) => (seen.push(...rows(ids)), grounded(ids, mask, images));
    const { objective } = await objectiveWith(only('itg'), model);
    // captions of different lengths, so padding is inside the batch
    const batch = (await objective.collate(captions.slice(0, 3), at(3))) as Stage1Batch;
    expect(rows(batch.stage1.attentionMask).some((r) => r.includes(0))).toBe(true);
    const loss = lossOf(objective, batch);
    expect(seen.every((r) => r[0] === DEC)).toBe(true);
    expect(loss).toBeCloseTo(
      tf.tidy(() => handItg(model, batch, 0.1)),
      5,
    );
    batch.dispose();
  });

  test('the total is itc + itm + itg (LAVIS), and weights scale each; weight 0 skips the pass', async () => {
    const parts = {} as Record<string, number>;
    const model = fakeQueryTransformer();
    for (const part of ['itc', 'itm', 'itg'] as const) {
      const { objective } = await objectiveWith(only(part), model);
      const batch = await objective.collate(captions.slice(0, 4), at(4, 2));
      parts[part] = lossOf(objective, batch);
      batch.dispose();
    }
    const { objective: all } = await objectiveWith({}, model);
    const batch = await all.collate(captions.slice(0, 4), at(4, 2));
    expect(lossOf(all, batch)).toBeCloseTo(parts.itc! + parts.itm! + parts.itg!, 5);
    const { objective: weighted } = await objectiveWith({ weights: { itc: 2, itm: 0.5, itg: 3 } }, model);
    expect(lossOf(weighted, batch)).toBeCloseTo(2 * parts.itc! + 0.5 * parts.itm! + 3 * parts.itg!, 5);
    const { objective: noMatch } = await objectiveWith({ weights: { itc: 1, itm: 0, itg: 1 } }, model);
    const before = model.calls.matchLogits;
    lossOf(noMatch, batch);
    expect(model.calls.matchLogits).toBe(before);
    batch.dispose();
  });
});

describe('hard negatives', () => {
  test('drawn with the softmax of the row, the positive excluded', () => {
    const scores = [0, 1, 2, 5, 9, 0.5, 1.5, -1, 3];
    const weights = (row: number) => {
      const e = [0, 1, 2].map((j) => (j === row ? 0 : Math.exp(scores[row * 3 + j]!)));
      const z = e.reduce((a, b) => a + b, 0);
      return e.map((x) => x / z);
    };
    const draws = 20000;
    for (let row = 0; row < 3; row++) {
      const counts = [0, 0, 0];
      for (let k = 0; k < draws; k++) counts[drawNegatives(scores, 3, (r) => (r === row ? 1000 + k : 0))[row]!]! += 1;
      expect(counts[row]).toBe(0);
      counts.forEach((c, j) => expect(Math.abs(c / draws - weights(row)[j]!)).toBeLessThan(0.015));
    }
  });

  test('never the positive even when it scores highest by far', () => {
    const n = 4;
    const scores = Array.from({ length: n * n }, (_, k) => (Math.floor(k / n) === k % n ? 1e4 : 0));
    for (let s = 0; s < 200; s++) drawNegatives(scores, n, (r) => s * 7 + r).forEach((j, i) => expect(j).not.toBe(i));
  });

  test('seeded by (seed, epoch, position): reproducible, different across positions and epochs', () => {
    const n = 8;
    const flat = new Float64Array(n * n); // uniform rows: every other column equally likely
    const inputs = (epoch: number, first: number) =>
      ({ seed: 5, epoch, positions: Array.from({ length: n }, (_, i) => first + i) }) as never;
    const a = hardNegatives(flat, inputs(0, 0));
    expect(hardNegatives(flat, inputs(0, 0))).toEqual(a);
    expect(hardNegatives(flat, inputs(1, 0))).not.toEqual(a);
    expect(hardNegatives(flat, inputs(0, 8))).not.toEqual(a);
    // rows differ from one another (the draw is per position, not one draw for the batch)
    const offsets = a.imageForText.map((j, i) => (j - i + n) % n);
    expect(new Set(offsets).size).toBeGreaterThan(1);
    // the two draws (image per text, text per image) are separate streams
    expect(a.imageForText).not.toEqual(a.textForImage);
  });

  test('a collated batch gives the same loss twice; another epoch draws other captions', async () => {
    const { objective } = await objectiveWith({});
    const b1 = await objective.collate(captions, at(6, 4));
    const b2 = await objective.collate(captions, at(6, 4));
    expect(lossOf(objective, b1)).toBe(lossOf(objective, b2));
    const texts = async (epoch: number) => {
      const b = await objective.collate(captions, at(6, epoch));
      const ids = rows(b.inputs.inputIds!);
      b.dispose();
      return ids;
    };
    const epochs = await Promise.all([0, 1, 2, 3].map(texts));
    expect(new Set(epochs.map((e) => JSON.stringify(e))).size).toBeGreaterThan(1);
    b1.dispose();
    b2.dispose();
  });
});

describe('training', () => {
  test('gradients reach every model variable, the temperature included', async () => {
    const { objective, model } = await objectiveWith({});
    const batch = await objective.collate(captions.slice(0, 4), at(4));
    const { value, grads } = tf.variableGrads(() => objective.loss(batch));
    expect(Number.isFinite(value.arraySync() as number)).toBe(true);
    for (const [name, variable] of model.root.namedParameters()) {
      const g = grads[variable.name];
      expect({ name, has: g !== undefined }).toEqual({ name, has: true });
      expect({ name, norm: (tf.norm(g!).arraySync() as number) > 0 }).toEqual({ name, norm: true });
    }
    expect(objective.parameters()).toEqual([]);
    expect(objective.minBatchSize).toBe(2);
    tf.dispose([value, ...Object.values(grads)]);
    batch.dispose();
  });

  test('collate: one caption per image, max_length truncation keeps [CLS] … [SEP], prompt and pre_caption applied', async () => {
    const { objective } = await objectiveWith({ max_length: 4, prompt: 'the ' });
    const batch = await objective.collate(captions.slice(0, 2), at(2));
    const ids = rows(batch.inputs.inputIds!);
    expect(batch.inputs.pixelValues!.shape).toEqual([2, 3, 4, 4]);
    expect(ids.every((r) => r.length === 4 && r[0] === 1 && r[3] === 2 && r[1] === 12)).toBe(true); // [CLS] the … [SEP]
    expect(batch.count).toBe(1);
    batch.dispose();
    expect(preCaption('A Red  Square.\n')).toBe('a red square');
    expect(preCaption('Big (red); "square"~')).toBe('big red square');
    expect(preCaption(Array.from({ length: 60 }, (_, i) => `w${i}`).join(' ')).split(' ')).toHaveLength(50);
  });
});

describe('leaks', () => {
  test('collate + loss + dispose and a whole evaluation leave no tensors behind', async () => {
    const { objective } = await objectiveWith({});
    const round = async () => {
      const batch = await objective.collate(captions.slice(0, 4), at(4, 1));
      const { value, grads } = tf.variableGrads(() => objective.loss(batch));
      tf.dispose([value, ...Object.values(grads)]);
      batch.dispose();
      for await (const part of objective.evaluate(undefined, { batchSize: 4, kinds: ['retrieval'] })) void part;
    };
    await round();
    const before = tf.memory().numTensors;
    await round();
    expect(tf.memory().numTensors).toBe(before);
  });
});

describe('evaluation', () => {
  test('eval loss per example and one ITC similarity matrix (max over queries) for metric-retrieval', async () => {
    const { objective, model } = await objectiveWith({});
    const parts = [];
    for await (const part of objective.evaluate(undefined, { batchSize: 4, kinds: ['retrieval'] })) parts.push(part);
    // 6 examples in chunks of 4: 4 then 2, then the matrix
    expect(parts.map((p) => p.count)).toEqual([4, 2, 0]);
    const input = parts[2]!.inputs[0] as RetrievalInput;
    expect(input.kind).toBe('retrieval');
    const { matrix, textToImage } = input.similarity!;
    expect(Array.from(textToImage)).toEqual([0, 0, 1, 1, 2, 2, 3, 3, 4, 4, 5, 5]);
    // hand: features of all 12 captions against each image's queries
    const texts = captions.flatMap((c) => (c.task === 'caption' ? c.captions : []));
    const enc = model.tokenizer!.encode(texts, { maxLength: 32, padding: 'longest', truncation: true });
    const expected = tf.tidy(() =>
      rows(model.encodeText(tf.tensor2d(enc.inputIds, undefined, 'int32'), tf.tensor2d(enc.attentionMask, undefined, 'int32'))),
    );
    const pixels = await objective.collate(captions, at(6));
    const image = tf.tidy(() => model.encodeImage(pixels.inputs.pixelValues!).imageFeats.arraySync() as number[][][]);
    pixels.dispose();
    image.forEach((queries, i) =>
      expected.forEach((t, j) =>
        expect(matrix[i]![j]!).toBeCloseTo(Math.max(...queries.map((qf) => qf.reduce((s, x, d) => s + x * t[d]!, 0))), 5),
      ),
    );
    for (const p of parts.slice(0, 2)) expect(Number.isFinite(p.lossSum)).toBe(true);
  });

  test('eval loss: a chunk sums its mean loss times its size (first caption, epoch 0)', async () => {
    const evalSet = captions.slice(0, 3);
    const { objective } = await objectiveWith(
      {},
      fakeQueryTransformer(),
      evalSet.map((e) => (e.task === 'caption' ? { ...e, captions: [e.captions[0]!] } : e)),
    );
    const parts = [];
    for await (const part of objective.evaluate(undefined, { batchSize: 8, kinds: [] })) parts.push(part);
    expect(parts).toHaveLength(1);
    const single = evalSet.map((e) => (e.task === 'caption' ? { ...e, captions: [e.captions[0]!] } : e));
    const batch = await objective.collate(single, at(3));
    expect(parts[0]!.lossSum).toBeCloseTo(3 * lossOf(objective, batch), 4);
    expect(parts[0]!.inputs).toEqual([]);
    batch.dispose();
  });

  test('a last chunk of one joins the chunk before it; a one-example split is an error', async () => {
    const { objective } = await objectiveWith({}, fakeQueryTransformer(), captions.slice(0, 5));
    const counts = [];
    for await (const part of objective.evaluate(undefined, { batchSize: 2, kinds: [] })) counts.push(part.count);
    expect(counts).toEqual([2, 3]);
    const { objective: one } = await objectiveWith({}, fakeQueryTransformer(), captions.slice(0, 1));
    await expect(
      (async () => {
        for await (const part of one.evaluate(undefined, { batchSize: 2, kinds: [] })) void part;
      })(),
    ).rejects.toMatchObject({ code: 'E_DATA', message: expect.stringContaining('c0') });
  });
});

describe('errors', () => {
  test('a VQA example is refused, naming it and its file:line', async () => {
    const { objective } = await objectiveWith({});
    const vqa: Example = {
      task: 'vqa',
      id: 'q7',
      image: captions[0]!.image!,
      question: 'what',
      answer: 'red',
      source: { file: 'data/vqa.jsonl', line: 7 },
    };
    await expect(objective.collate([captions[0]!, vqa], at(2))).rejects.toMatchObject({
      code: 'E_DATA',
      message: expect.stringContaining('example "q7" (data/vqa.jsonl:7) is a vqa example'),
    });
  });

  test('a model that is not a query transformer, and max_length beyond the model', async () => {
    const notQ = { ...fakeQueryTransformer(), family: 'dual-encoder' as const };
    const context = await fakeContext(tmp(), { model: notQ as never });
    const err = await blip2Stage1Provider.create(blip2Stage1ConfigSchema.parse({}), context).catch((e: unknown) => e);
    expect(isMmftError(err) && err.code).toBe('E_CONFIG');
    const context2 = await fakeContext(tmp());
    await expect(blip2Stage1Provider.create(blip2Stage1ConfigSchema.parse({ max_length: 33 }), context2)).rejects.toMatchObject({
      code: 'E_CONFIG',
      message: expect.stringContaining('at most 32 text tokens'),
    });
  });

  test('a batch of one has no negative', async () => {
    const { objective } = await objectiveWith({});
    const batch = await objective.collate(captions.slice(0, 1), at(1));
    expect(() => objective.loss(batch)).toThrow(/batch of 1/);
    batch.dispose();
  });
});

describeObjective(blip2Stage1Provider, { config: {}, context: (dir) => fakeContext(dir), examples: captions.slice(0, 3) });
