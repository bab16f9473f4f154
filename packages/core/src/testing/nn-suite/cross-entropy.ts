// The causal-LM loss (lm/loss.ts) against float64 cross-entropy written from its definition, and
// the fused CrossEntropy kernel (kernels/kernel_names.ts) against the tfjs-ops path it replaces:
// values and gradients with ignored positions, logits large enough to overflow exp without the
// max subtracted, vocabularies that are and are not a multiple of 8 (the native kernel's vector
// width), numItemsInBatch, and leaks. Core runs it on cpu (no kernel: the tfjs path); backend
// plugins re-run it with the kernel registered (index.ts). Shapes stay small, as tfjs's cpu
// backend runs the reference path slowly; sizes split over threads are tested in native-kernels.
import * as tf from '@tensorflow/tfjs-core';
import { describe, expect, test } from '@jest/globals';
import { CrossEntropy, CrossEntropyGrad, isRegistered, runFused } from '../../kernels';
import { causalLmLoss, compositeCausalLmLoss, IGNORE_INDEX } from '../../lm/loss';

interface Case {
  readonly name: string;
  readonly batch: number;
  readonly length: number;
  readonly vocab: number;
  /** Logits are `scale`·u + `shift`·(row pattern), u in [−1, 1). */
  readonly scale: number;
  readonly shift: number;
  /** Which label positions are -100. */
  readonly ignored: (b: number, t: number) => boolean;
  readonly numItemsInBatch?: number;
}

const CASES: readonly Case[] = [
  { name: 'V = 8 (one vector), some ignored', batch: 2, length: 5, vocab: 8, scale: 3, shift: 0, ignored: (b, t) => (b + t) % 3 === 0 },
  { name: 'V = 37 (a tail of 5), prompt ignored', batch: 3, length: 6, vocab: 37, scale: 4, shift: 0, ignored: (_, t) => t < 2 },
  { name: 'V = 7 (shorter than one vector)', batch: 1, length: 4, vocab: 7, scale: 2, shift: 0, ignored: (_, t) => t === 2 },
  {
    name: 'large logits (|x| ≈ 2000: exp overflows without the max), numItemsInBatch',
    batch: 2,
    length: 4,
    vocab: 19,
    scale: 40,
    shift: 2000,
    ignored: (b, t) => b === 1 && t === 1,
    numItemsInBatch: 11,
  },
  {
    name: 'V = 1003',
    batch: 2,
    length: 9,
    vocab: 1003,
    scale: 6,
    shift: 0,
    ignored: (b, t) => t % 4 === 0 || (b === 1 && t > 6),
  },
];

/** Deterministic values in [−1, 1) (an LCG), as plain numbers. */
function uniform(size: number, seed: number): number[] {
  let state = seed >>> 0;
  return Array.from({ length: size }, () => {
    state = (Math.imul(state, 1664525) + 1013904223) >>> 0;
    return state / 2 ** 31 - 1;
  });
}

function inputs(c: Case): { logits: tf.Tensor3D; labels: tf.Tensor2D } {
  const u = uniform(c.batch * c.length * c.vocab, c.vocab + c.length);
  // The shift alternates sign by row so some rows sit near +shift and others near −shift.
  const x = u.map((v, i) => c.scale * v + c.shift * (Math.floor(i / c.vocab) % 2 === 0 ? 1 : -1));
  const ids = uniform(c.batch * c.length, 7).map((v) => Math.floor(((v + 1) / 2) * c.vocab));
  const labels = ids.map((id, i) => (c.ignored(Math.floor(i / c.length), i % c.length) ? IGNORE_INDEX : id));
  return { logits: tf.tensor3d(x, [c.batch, c.length, c.vocab]), labels: tf.tensor2d(labels, [c.batch, c.length], 'int32') };
}

/** Float64 loss and dlogits of ForCausalLMLoss: position t scored against label t + 1. */
function reference(logits: Float32Array, labels: Int32Array, c: Case): { loss: number; grad: Float64Array } {
  const grad = new Float64Array(logits.length);
  const terms: Array<{ row: number; label: number; softmax: number[] }> = [];
  let total = 0;
  for (let b = 0; b < c.batch; b++)
    for (let t = 0; t + 1 < c.length; t++) {
      const label = labels[b * c.length + t + 1];
      if (label === IGNORE_INDEX) continue;
      const row = b * c.length + t;
      const x = Array.from(logits.subarray(row * c.vocab, (row + 1) * c.vocab));
      const peak = Math.max(...x);
      const sum = x.reduce((s, v) => s + Math.exp(v - peak), 0);
      total += peak + Math.log(sum) - x[label];
      terms.push({ row, label, softmax: x.map((v) => Math.exp(v - peak) / sum) });
    }
  const denominator = c.numItemsInBatch ?? terms.length;
  for (const { row, label, softmax } of terms)
    softmax.forEach((p, v) => (grad[row * c.vocab + v] = (p - (v === label ? 1 : 0)) / denominator));
  return { loss: total / denominator, grad };
}

/** max |a − b| ≤ tol · max |b| (relative to the largest expected value). */
function expectRelClose(actual: ArrayLike<number>, expected: ArrayLike<number>, tol: number): void {
  expect(actual.length).toBe(expected.length);
  let [scale, worst] = [1e-30, 0];
  for (let i = 0; i < expected.length; i++) {
    scale = Math.max(scale, Math.abs(expected[i]));
    worst = Math.max(worst, Math.abs(actual[i] - expected[i]));
  }
  expect(worst / scale).toBeLessThanOrEqual(tol);
}

type LossFn = typeof causalLmLoss;
function valueAndGrad(fn: LossFn, logits: tf.Tensor, labels: tf.Tensor, numItemsInBatch?: number) {
  const { value, grad } = tf.valueAndGrad((x: tf.Tensor) => fn(x, labels, numItemsInBatch))(logits);
  const out = { loss: value.dataSync()[0], grad: grad.dataSync() as Float32Array };
  tf.dispose([value, grad]);
  return out;
}

/** Registers the cross-entropy tests; the caller has selected the backend (and installed kernels). */
export function crossEntropySuite(): void {
  describe('cross-entropy (causalLmLoss, fused CrossEntropy where registered)', () => {
    test.each(CASES.map((c) => [c.name, c] as const))('%s: loss and gradient equal float64 and the tfjs path', (_, c) => {
      const { logits, labels } = inputs(c);
      const expected = reference(logits.dataSync() as Float32Array, labels.dataSync() as Int32Array, c);
      const ours = valueAndGrad(causalLmLoss, logits, labels, c.numItemsInBatch);
      const composite = valueAndGrad(compositeCausalLmLoss, logits, labels, c.numItemsInBatch);
      // Near |x| = 2000 float32's spacing is 1.2e-4: lse carries that much, and exp(x − lse) that
      // much relative error; elsewhere the sums are float32-exact to a few ulps.
      const large = c.shift > 0;
      expect(Math.abs(ours.loss - expected.loss)).toBeLessThanOrEqual(large ? 2e-4 : 2e-6 * Math.max(1, expected.loss));
      expect(Math.abs(ours.loss - composite.loss)).toBeLessThanOrEqual(large ? 2e-4 : 2e-6 * Math.max(1, composite.loss));
      expectRelClose(ours.grad, expected.grad, large ? 5e-4 : 2e-6);
      expectRelClose(ours.grad, composite.grad, large ? 5e-4 : 2e-6);
      // Ignored and unscored positions (the last of each row) take exactly no gradient.
      const ids = labels.dataSync();
      for (let row = 0; row < c.batch * c.length; row++) {
        const t = row % c.length;
        if (t + 1 < c.length && ids[row + 1] !== IGNORE_INDEX) continue;
        expect(ours.grad.subarray(row * c.vocab, (row + 1) * c.vocab).every((g) => g === 0)).toBe(true);
      }
      tf.dispose([logits, labels]);
    });

    test('the fused kernels run exactly where the backend registers them, without leaks', async () => {
      const { logits, labels } = inputs(CASES[1]);
      const before = tf.memory().numTensors;
      const profile = await tf.profile(() => void valueAndGrad(causalLmLoss, logits, labels));
      const names = profile.kernels.map((k) => k.name);
      const fused = isRegistered(CrossEntropy);
      expect(names.includes(CrossEntropy)).toBe(fused);
      expect(names.includes(CrossEntropyGrad)).toBe(fused);
      expect(tf.memory().numTensors).toBe(before);
      tf.dispose([logits, labels]);
    });

    test('the kernel itself: per-row loss (0 where ignored), log-sum-exp everywhere, and the gradient of both outputs', () => {
      const x = tf.tensor2d(
        [
          [0, Math.log(3), -1],
          [2, 2, 2],
          [1000, 0, -1000],
        ],
        [3, 3],
      );
      const y = tf.tensor1d([1, IGNORE_INDEX, 0], 'int32');
      const out = runFused(CrossEntropy, { logits: x, labels: y }, { ignoreIndex: IGNORE_INDEX });
      if (!isRegistered(CrossEntropy)) {
        expect(out).toBeUndefined();
        tf.dispose([x, y]);
        return;
      }
      const [loss, lse] = out!;
      // Row 0: Σ exp = 1 + 3 + e⁻¹; row 1: 3·e²; row 2: e¹⁰⁰⁰·(1 + e⁻¹⁰⁰⁰ + …).
      const z0 = 4 + Math.exp(-1);
      expectRelClose(lse.dataSync(), [Math.log(z0), 2 + Math.log(3), 1000], 1e-6);
      expectRelClose(loss.dataSync(), [Math.log(z0) - Math.log(3), 0, 0], 1e-6);
      // d/dx Σ (loss·w + lse·u) = (softmax − onehot)·w + softmax·u, row by row.
      const [w, u] = [tf.tensor1d([2, 5, 1]), tf.tensor1d([0.5, -1, 3])];
      const dx = tf.grad((l: tf.Tensor) => {
        const [a, b] = runFused(CrossEntropy, { logits: l, labels: y }, { ignoreIndex: IGNORE_INDEX })!;
        return tf.add(tf.sum(tf.mul(a, w)), tf.sum(tf.mul(b, u)));
      })(x);
      const p0 = [1 / z0, 3 / z0, Math.exp(-1) / z0];
      const expected = [
        ...p0.map((p, v) => (p - (v === 1 ? 1 : 0)) * 2 + p * 0.5),
        ...[1, 1, 1].map(() => -1 / 3), // ignored: only lse's gradient, softmax·(−1)
        ...[1, 0, 0].map((p, v) => (p - (v === 0 ? 1 : 0)) * 1 + p * 3),
      ];
      expectRelClose(dx.dataSync(), expected, 1e-6);
      tf.dispose([x, y, loss, lse, w, u, dx]);
    });
  });
}
