import '@tensorflow/tfjs-backend-cpu';
import * as tf from '@tensorflow/tfjs-core';
import { describe, expect, test } from '@jest/globals';
import { PluginRegistry, type Batch } from '@mmft/core';
import { registerGradients } from '@mmft/core/nn';
import plugin, { clipLossConfigSchema, createClipLoss, createSiglipLoss, siglipLossConfigSchema } from './index';

registerGradients();

const batch: Batch = { inputs: {}, examples: [] };
const eye2 = () =>
  tf.tensor2d([
    [1, 0],
    [0, 1],
  ]);
const value = (s: tf.Scalar): number => s.dataSync()[0]!;
const softplus = (x: number) => Math.log1p(Math.exp(x)); // −log σ(−x)

describe('clip loss', () => {
  test('orthogonal pairs with scale 2: log(1 + e^-2) in both directions', () => {
    const loss = createClipLoss(clipLossConfigSchema.parse({}));
    const out = { imageEmbeds: eye2(), textEmbeds: eye2(), logitScale: tf.scalar(Math.log(2)) };
    expect(value(loss.compute(out, batch))).toBeCloseTo(Math.log1p(Math.exp(-2)), 6);
  });

  test('embeddings are L2-normalised first; the loss owns ln(1/0.07) when the model has no scale', () => {
    const loss = createClipLoss(clipLossConfigSchema.parse({}));
    const out = {
      imageEmbeds: tf.tensor2d([
        [3, 0],
        [0, 0.5],
      ]),
      textEmbeds: tf.tensor2d([
        [2, 0],
        [0, 7],
      ]),
    };
    const t = 1 / 0.07;
    expect(value(loss.compute(out, batch))).toBeCloseTo(Math.log1p(Math.exp(-t)), 6);
    expect(loss.parameters?.map(([n]) => n)).toEqual(['logit_scale']);
  });

  test('hard-negative columns enter image→text only', () => {
    const loss = createClipLoss(clipLossConfigSchema.parse({}));
    const texts = tf.tensor2d([
      [1, 0],
      [0, 1],
      [1, 0],
    ]); // third text: a negative identical to image 0's caption
    const out = { imageEmbeds: eye2(), textEmbeds: texts, logitScale: tf.scalar(Math.log(2)) };
    const e2 = Math.exp(2);
    const i2t = (Math.log((2 * e2 + 1) / e2) + Math.log((e2 + 2) / e2)) / 2;
    const t2i = Math.log1p(Math.exp(-2));
    expect(value(loss.compute(out, batch))).toBeCloseTo((i2t + t2i) / 2, 6);
  });

  test('the scale is clamped at ln(100) in the forward pass and gets no gradient beyond it', () => {
    const loss = createClipLoss(clipLossConfigSchema.parse({}));
    const image = tf.tensor2d([
      [1, 0],
      [0.6, 0.8],
    ]);
    const text = tf.tensor2d([
      [0.8, 0.6],
      [0, 1],
    ]);
    const at = (s: number) => value(loss.compute({ imageEmbeds: image, textEmbeds: text, logitScale: tf.scalar(s) }, batch));
    expect(at(10)).toBeCloseTo(at(Math.log(100)), 6);
    expect(at(Math.log(50))).not.toBeCloseTo(at(Math.log(100)), 3);
    const scale = tf.variable(tf.scalar(10));
    const { grads } = tf.variableGrads(() => loss.compute({ imageEmbeds: image, textEmbeds: text, logitScale: scale }, batch), [scale]);
    expect(grads[scale.name]!.dataSync()[0]).toBe(0);
  });

  test('precomputed logitsPerImage are used as given', () => {
    const loss = createClipLoss(clipLossConfigSchema.parse({}));
    const logits = tf.tensor2d([
      [1, 0, 3],
      [2, 1, 0],
    ]);
    const ce = (row: number[], k: number) => Math.log(row.reduce((s, x) => s + Math.exp(x), 0)) - row[k]!;
    const expected = ((ce([1, 0, 3], 0) + ce([2, 1, 0], 1)) / 2 + (ce([1, 2], 0) + ce([0, 1], 1)) / 2) / 2;
    expect(value(loss.compute({ logitsPerImage: logits }, batch))).toBeCloseTo(expected, 6);
  });

  test('missing or mismatched outputs are E_SHAPE errors naming what was given', () => {
    const loss = createClipLoss(clipLossConfigSchema.parse({}));
    expect(() => loss.compute({ logits: tf.zeros([2, 5]) }, batch)).toThrow(/needs outputs.imageEmbeds.*logits \[2, 5\]/);
    expect(() => loss.compute({ imageEmbeds: tf.zeros([3, 2]), textEmbeds: tf.zeros([2, 2]) }, batch)).toThrow(/2 texts for 3 images/);
  });
});

describe('siglip loss', () => {
  test("t' = ln 10, b = −10 on orthogonal pairs: (2 ln 2 + 2 softplus(−10)) / 2", () => {
    const loss = createSiglipLoss(siglipLossConfigSchema.parse({}));
    const out = { imageEmbeds: eye2(), textEmbeds: eye2() };
    expect(value(loss.compute(out, batch))).toBeCloseTo(Math.log(2) + softplus(-10), 6);
    expect(loss.parameters?.map(([n, v]) => [n, v.dataSync()[0]])).toEqual([
      ['logit_scale', expect.closeTo(Math.log(10), 6)],
      ['logit_bias', -10],
    ]);
  });

  test('hard negatives are −1 columns and the bias gets a gradient', () => {
    const loss = createSiglipLoss(siglipLossConfigSchema.parse({}));
    const out = {
      imageEmbeds: eye2(),
      textEmbeds: tf.tensor2d([
        [1, 0],
        [0, 1],
        [1, 0],
      ]),
    };
    // logits [[0, −10, 0], [−10, 0, −10]]; the negative in row 0 costs ln 2, in row 1 softplus(−10).
    expect(value(loss.compute(out, batch))).toBeCloseTo((3 * Math.log(2) + 3 * softplus(-10)) / 2, 6);
    const bias = loss.parameters!.find(([n]) => n === 'logit_bias')![1];
    const { grads } = tf.variableGrads(() => loss.compute(out, batch), [bias]);
    // d/db Σ −log σ(z·(l+b)) / B = Σ −z·σ(−z·l) / B: two positives at l = 0, one negative at
    // l = 0 and three at l = −10.
    const sig = (x: number) => 1 / (1 + Math.exp(-x));
    const expected = (-2 * sig(0) + sig(0) + 3 * sig(-10)) / 2;
    expect(grads[bias.name]!.dataSync()[0]).toBeCloseTo(expected, 6);
  });

  test('model-provided logitScale and logitBias take precedence', () => {
    const loss = createSiglipLoss(siglipLossConfigSchema.parse({}));
    const out = { imageEmbeds: eye2(), textEmbeds: eye2(), logitScale: tf.scalar(0), logitBias: tf.scalar(0) };
    // logits [[1, 0], [0, 1]]: diag softplus(−1), off-diagonal softplus(0) = ln 2.
    expect(value(loss.compute(out, batch))).toBeCloseTo((2 * softplus(-1) + 2 * Math.log(2)) / 2, 6);
  });
});

test('the plugin registers both losses and leaks no tensors per compute', () => {
  const registry = new PluginRegistry();
  registry.use(plugin, '@mmft/loss-contrastive');
  expect(registry.list('loss').map((l) => l.id)).toEqual(['clip', 'siglip']);
  const loss = registry.resolve('loss', 'siglip').create({});
  const out = { imageEmbeds: eye2(), textEmbeds: eye2() };
  loss.compute(out, batch).dispose();
  const before = tf.memory().numTensors;
  loss.compute(out, batch).dispose();
  expect(tf.memory().numTensors).toBe(before);
});

test('clip and siglip gradients match central finite differences', () => {
  for (const loss of [createClipLoss(clipLossConfigSchema.parse({})), createSiglipLoss(siglipLossConfigSchema.parse({}))]) {
    const base = [0.3, -0.2, 0.5, 0.1, -0.4, 0.6];
    const text = tf.tensor2d([
      [0.2, 0.1, -0.3],
      [0.5, -0.1, 0.2],
      [-0.3, 0.4, 0.1],
    ]);
    const f = (values: number[]) =>
      loss.compute({ imageEmbeds: tf.tensor2d(values, [2, 3]), textEmbeds: text, logitScale: tf.scalar(1.2) }, batch);
    const image = tf.variable(tf.tensor2d(base, [2, 3]));
    const { grads } = tf.variableGrads(
      () => loss.compute({ imageEmbeds: image, textEmbeds: text, logitScale: tf.scalar(1.2) }, batch),
      [image],
    );
    const analytic = grads[image.name]!.dataSync();
    const h = 1e-2;
    base.forEach((_, i) => {
      const plus = [...base];
      const minus = [...base];
      plus[i]! += h;
      minus[i]! -= h;
      const numeric = (value(f(plus)) - value(f(minus))) / (2 * h);
      expect(analytic[i]).toBeCloseTo(numeric, 2);
    });
  }
});
