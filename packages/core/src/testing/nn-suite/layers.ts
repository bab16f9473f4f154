// Linear, Embedding, LayerNorm, Conv2d, Dropout and ModuleList against torch.nn's semantics, run
// by core on cpu and by backend plugins with their fused kernels installed (index.ts).
import * as tf from '@tensorflow/tfjs-core';
import { describe, expect, test } from '@jest/globals';
import { isMmftError } from '../../errors';
import { Conv2d } from '../../nn/conv2d';
import { Dropout } from '../../nn/dropout';
import { Embedding } from '../../nn/embedding';
import { LayerNorm } from '../../nn/layer-norm';
import { Linear } from '../../nn/linear';
import { ModuleList } from '../../nn/module-list';

const close = (a: tf.Tensor, b: number[] | tf.Tensor, tol = 1e-5) => {
  const expected = b instanceof tf.Tensor ? b : tf.tensor(b, a.shape);
  expect(a.shape).toEqual(expected.shape);
  expect(tf.max(tf.abs(tf.sub(a, expected))).dataSync()[0]).toBeLessThan(tol);
};

function thrown(fn: () => unknown): { code?: string; message: string } {
  try {
    fn();
  } catch (e) {
    expect(isMmftError(e)).toBe(true);
    return e as { code: string; message: string };
  }
  throw new Error('expected an error');
}

/** Registers core's layers tests; the caller has selected the backend. */
export function layersSuite(): void {
  describe('Linear', () => {
    test('stores W [out, in] and maps any rank', () => {
      const fc = new Linear(3, 2);
      fc.loadStateDict({
        weight: tf.tensor2d([
          [1, 0, -1],
          [2, 1, 0],
        ]),
        bias: tf.tensor1d([0.5, -0.5]),
      });
      const x = tf.tensor3d([[[1, 2, 3]], [[0, 1, 0]]]); // [2, 1, 3]
      close(fc.forward(x), [1 - 3 + 0.5, 2 + 2 - 0.5, 0 + 0.5, 1 - 0.5]);
      close(fc.forward(tf.tensor1d([1, 2, 3])), [-1.5, 3.5]);
      expect(thrown(() => fc.forward(tf.zeros([2, 4]))).message).toMatch(/Linear\(3 → 2\) got input of shape \[2, 4\]/);
      fc.dispose();
    });

    test("PyTorch's default init lies in ±1/√in; bias can be off", () => {
      const fc = new Linear(64, 32, { seed: 3 });
      const bound = 1 / 8;
      expect(tf.max(tf.abs(fc.weight)).dataSync()[0]).toBeLessThanOrEqual(bound);
      expect(tf.max(tf.abs(fc.bias!)).dataSync()[0]).toBeLessThanOrEqual(bound);
      expect(tf.max(tf.abs(fc.weight)).dataSync()[0]).toBeGreaterThan(bound * 0.9);
      const noBias = new Linear(4, 4, { bias: false });
      expect(noBias.bias).toBeUndefined();
      expect(noBias.namedParameters().map(([n]) => n)).toEqual(['weight']);
      fc.dispose();
      noBias.dispose();
    });
  });

  describe('Embedding', () => {
    test('gathers rows for ids of any shape, refuses float ids', () => {
      const emb = new Embedding(4, 2, { seed: 1 });
      emb.loadStateDict({
        weight: tf.tensor2d([
          [0, 0],
          [1, 1],
          [2, 2],
          [3, 3],
        ]),
      });
      const out = emb.forward(
        tf.tensor2d(
          [
            [3, 1],
            [0, 2],
          ],
          [2, 2],
          'int32',
        ),
      );
      close(out, [3, 3, 1, 1, 0, 0, 2, 2]);
      expect(out.shape).toEqual([2, 2, 2]);
      expect(thrown(() => emb.forward(tf.tensor1d([1, 2]))).message).toMatch(/needs int32 ids, got float32/);
      emb.dispose();
    });

    test('initialises N(0, 1)', () => {
      const emb = new Embedding(100, 100, { seed: 5 });
      const { mean, variance } = tf.moments(emb.weight);
      expect(Math.abs(mean.dataSync()[0])).toBeLessThan(0.05);
      expect(Math.abs(variance.dataSync()[0] - 1)).toBeLessThan(0.05);
      emb.dispose();
    });
  });

  describe('LayerNorm', () => {
    test('normalises the last axis with biased variance, then scales and shifts', () => {
      const ln = new LayerNorm(4, { eps: 1e-5 });
      ln.loadStateDict({ weight: tf.tensor1d([1, 2, 1, 1]), bias: tf.tensor1d([0, 0, 0, 1]) });
      const x = [1, 2, 3, 4];
      const mean = 2.5;
      const std = Math.sqrt(1.25 + 1e-5);
      const expected = x.map((v, i) => ((v - mean) / std) * [1, 2, 1, 1][i] + [0, 0, 0, 1][i]);
      close(ln.forward(tf.tensor2d([x])), expected);
      expect(thrown(() => ln.forward(tf.zeros([1, 3]))).code).toBe('E_SHAPE');
      const plain = new LayerNorm(4, { elementwiseAffine: false });
      expect(plain.namedParameters()).toEqual([]);
      close(
        plain.forward(tf.tensor1d(x)),
        x.map((v) => (v - mean) / Math.sqrt(1.25 + 1e-5)),
      );
      ln.dispose();
    });
  });

  describe('Conv2d', () => {
    /** Direct PyTorch-semantics convolution on nested arrays. */
    function naiveConv(x: number[][][][], w: number[][][][], b: number[], stride: number, pad: number): number[][][][] {
      const [n, cin, h, wd] = [x.length, x[0].length, x[0][0].length, x[0][0][0].length];
      const [cout, kh, kw] = [w.length, w[0][0].length, w[0][0][0].length];
      const oh = Math.floor((h + 2 * pad - kh) / stride) + 1;
      const ow = Math.floor((wd + 2 * pad - kw) / stride) + 1;
      const at = (i: number, c: number, r: number, q: number) => (r < 0 || q < 0 || r >= h || q >= wd ? 0 : x[i][c][r][q]);
      return Array.from({ length: n }, (_, i) =>
        Array.from({ length: cout }, (_, o) =>
          Array.from({ length: oh }, (_, r) =>
            Array.from({ length: ow }, (_, q) => {
              let s = b[o];
              for (let c = 0; c < cin; c++)
                for (let u = 0; u < kh; u++)
                  for (let v = 0; v < kw; v++) s += w[o][c][u][v] * at(i, c, r * stride - pad + u, q * stride - pad + v);
              return s;
            }),
          ),
        ),
      );
    }

    test('matches PyTorch semantics on NCHW input with stride and padding', () => {
      const conv = new Conv2d(2, 3, 3, { stride: 2, padding: 1, seed: 4 });
      const x = tf.randomNormal([2, 2, 5, 5], 0, 1, 'float32', 9);
      const [w, b] = [conv.param('weight').arraySync() as number[][][][], conv.param('bias').arraySync() as number[]];
      const expected = naiveConv(x.arraySync() as number[][][][], w, b, 2, 1);
      close(conv.forward(x), tf.tensor(expected), 1e-4);
      conv.dispose();
    });

    test('CLIP patch embedding: kernel = stride = patch, no bias', () => {
      const conv = new Conv2d(3, 8, 4, { stride: 4, bias: false, seed: 1 });
      expect(conv.namedParameters().map(([n, v]) => [n, v.shape])).toEqual([['weight', [8, 3, 4, 4]]]);
      const x = tf.randomNormal([1, 3, 8, 8], 0, 1, 'float32', 2);
      const y = conv.forward(x);
      expect(y.shape).toEqual([1, 8, 2, 2]);
      const expected = naiveConv(
        x.arraySync() as number[][][][],
        conv.param('weight').arraySync() as number[][][][],
        new Array(8).fill(0),
        4,
        0,
      );
      close(y, tf.tensor(expected), 1e-4);
      expect(thrown(() => conv.forward(tf.zeros([1, 8, 8, 3]))).message).toMatch(/needs NCHW input \[N, 3, H, W\], got \[1, 8, 8, 3\]/);
      conv.dispose();
    });
  });

  describe('Dropout', () => {
    test('is the identity in eval mode and for p = 0', () => {
      const x = tf.ones([10, 10]);
      const drop = new Dropout(0.5);
      drop.eval();
      expect(drop.forward(x)).toBe(x);
      expect(new Dropout(0).forward(x)).toBe(x);
      expect(thrown(() => new Dropout(1)).code).toBe('E_CONFIG');
    });

    test('drops about p, scales the rest by 1/(1-p), reproducibly per seed and differently per call', () => {
      const x = tf.ones([100, 100]);
      const a = new Dropout(0.25, { seed: 11 });
      const b = new Dropout(0.25, { seed: 11 });
      const first = a.forward(x).dataSync();
      const kept = first.filter((v) => v !== 0);
      expect(Math.abs(1 - kept.length / first.length - 0.25)).toBeLessThan(0.03);
      expect(new Set(kept)).toEqual(new Set([Math.fround(1 / 0.75)]));
      expect(b.forward(x).dataSync()).toEqual(first);
      expect(a.forward(x).dataSync()).not.toEqual(first);
    });
  });

  describe('ModuleList', () => {
    test('names children by index and is iterable, with Python-style negative indices', () => {
      const list = new ModuleList([new Linear(2, 2), new Linear(2, 3)]);
      list.append(new Linear(3, 1));
      expect(list.length).toBe(3);
      expect(list.get(-1).outFeatures).toBe(1);
      expect([...list].map((l) => l.outFeatures)).toEqual([2, 3, 1]);
      expect(list.namedParameters().map(([n]) => n)).toEqual(['0.weight', '0.bias', '1.weight', '1.bias', '2.weight', '2.bias']);
      expect(thrown(() => list.get(3)).message).toMatch(/index 3 is out of range for a list of 3/);
      expect(thrown(() => list.forward()).code).toBe('E_UNSUPPORTED');
      list.dispose();
    });
  });
}
