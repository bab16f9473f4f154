import '@tensorflow/tfjs-backend-cpu';
import * as tf from '@tensorflow/tfjs-core';
import { describe, expect, test } from '@jest/globals';
import { Embedding, LayerNorm, Linear, Module } from '@mmft/core/nn';
import { AdamW } from './adamw';
import { clipGradNorm } from './clip-grad';
import { paramEntries } from './param-groups';
import { lrMultiplier } from './schedule';

/** torch.optim.AdamW's single-tensor update in float64, for one scalar parameter. */
function torchAdamW(p: number, grads: number[], lr: number, wd: number, [b1, b2]: [number, number], eps: number): number {
  let [m, v] = [0, 0];
  grads.forEach((g, i) => {
    const t = i + 1;
    p *= 1 - lr * wd;
    m = b1 * m + (1 - b1) * g;
    v = b2 * v + (1 - b2) * g * g;
    p -= (lr / (1 - b1 ** t)) * (m / (Math.sqrt(v) / Math.sqrt(1 - b2 ** t) + eps));
  });
  return p;
}

describe('AdamW', () => {
  test('first step by hand: decoupled decay then a bias-corrected unit step', () => {
    const w = tf.variable(tf.tensor2d([[1]]));
    const b = tf.variable(tf.tensor1d([1]));
    const opt = new AdamW(
      [
        { name: 'w', variable: w, decay: true },
        { name: 'b', variable: b, decay: false },
      ],
      { betas: [0.9, 0.999], eps: 1e-8, weightDecay: 0.1 },
    );
    opt.step(
      new Map<string, tf.Tensor>([
        ['w', tf.tensor2d([[0.5]])],
        ['b', tf.tensor1d([0.5])],
      ]),
      0.1,
    );
    // w: 1·(1 − 0.1·0.1) − 0.1 · (0.05/0.1) / (√0.00025/√0.001 + 1e-8) = 0.99 − 0.1 = 0.89
    expect(w.dataSync()[0]).toBeCloseTo(0.89, 6);
    expect(b.dataSync()[0]).toBeCloseTo(0.9, 6); // no decay on biases
  });

  test('matches torch semantics over 5 steps of changing gradients; state round-trips', async () => {
    const grads = [0.3, -1.2, 0.05, 2.0, -0.4];
    const w = tf.variable(tf.tensor2d([[0.7]]));
    const opt = new AdamW([{ name: 'w', variable: w, decay: true }], { betas: [0.9, 0.98], eps: 1e-6, weightDecay: 0.2 });
    grads.slice(0, 3).forEach((g) => opt.step(new Map([['w', tf.tensor2d([[g]])]]), 0.01));
    const saved = await opt.state();
    const copy = tf.variable(w.clone());
    const restored = new AdamW([{ name: 'w', variable: copy, decay: true }], opt.options);
    restored.load(saved, 'test');
    for (const g of grads.slice(3)) {
      opt.step(new Map([['w', tf.tensor2d([[g]])]]), 0.01);
      restored.step(new Map([['w', tf.tensor2d([[g]])]]), 0.01);
    }
    expect(w.dataSync()[0]).toBeCloseTo(torchAdamW(0.7, grads, 0.01, 0.2, [0.9, 0.98], 1e-6), 6);
    expect(copy.dataSync()[0]).toBe(w.dataSync()[0]);
  });

  test('parameters without a gradient keep their value and step count (torch: grad is None)', async () => {
    const w = tf.variable(tf.tensor2d([[1]]));
    const opt = new AdamW([{ name: 'w', variable: w, decay: true }], { betas: [0.9, 0.999], eps: 1e-8, weightDecay: 0.5 });
    opt.step(new Map(), 0.1);
    expect(w.dataSync()[0]).toBe(1);
    expect((await opt.state()).steps.w).toBe(0);
  });
});

test('decay exclusions: biases, LayerNorm, Embedding, 1-D tensors, logit_* and recipe globs', () => {
  class Net extends Module<[], void> {
    constructor() {
      super();
      this.registerModule('fc', new Linear(2, 2));
      this.registerModule('ln', new LayerNorm(2));
      this.registerModule('emb', new Embedding(3, 2));
      this.registerModule('head', new Linear(2, 2, { bias: false }));
      this.createParameter('logit_scale', [], (s) => tf.zeros([...s]));
      this.createParameter('class_embedding', [2], (s) => tf.zeros([...s]));
    }
    forward(): void {}
  }
  const net = new Net();
  const entries = paramEntries([{ prefix: '', root: net, params: net.namedParameters() }], ['head.*']);
  expect(Object.fromEntries(entries.map((e) => [e.name, e.decay]))).toEqual({
    'fc.weight': true,
    'fc.bias': false,
    'ln.weight': false,
    'ln.bias': false,
    'emb.weight': false,
    'head.weight': false,
    logit_scale: false,
    class_embedding: false,
  });
  net.freeze('fc.*');
  expect(paramEntries([{ prefix: 'm.', root: net, params: net.namedParameters() }], []).map((e) => e.name)).not.toContain('m.fc.weight');
});

test('schedules follow transformers optimization.py', () => {
  expect([0, 5, 10].map((s) => lrMultiplier('cosine', s, 10, 110))).toEqual([0, 0.5, 1]);
  expect(lrMultiplier('cosine', 60, 10, 110)).toBeCloseTo(0.5, 12);
  expect(lrMultiplier('cosine', 110, 10, 110)).toBeCloseTo(0, 12);
  expect(lrMultiplier('linear', 60, 10, 110)).toBeCloseTo(0.5, 12);
  expect(lrMultiplier('constant', 99, 10, 110)).toBe(1);
});

test('global-norm clipping as clip_grad_norm_: scale max/(norm + 1e-6) only when below 1', () => {
  const grads = new Map([
    ['a', tf.tensor1d([3, 0])],
    ['b', tf.tensor1d([0, 4])],
  ]);
  const { totalNorm, clipped } = clipGradNorm(grads, 1);
  expect(totalNorm.dataSync()[0]).toBeCloseTo(5, 6);
  expect(Array.from(clipped.get('a')!.dataSync())).toEqual([expect.closeTo(3 / (5 + 1e-6), 6), 0]);
  const loose = clipGradNorm(grads, 10).clipped;
  expect(Array.from(loose.get('b')!.dataSync())).toEqual([0, 4]);
});
