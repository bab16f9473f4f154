// Core's causal-attention tests (testing/nn-suite/causal-attention.ts) on tfjs's cpu backend; backend plugins re-run
// the same suite with their kernels installed (backend-tfjs: src/nn-suite.*.test.ts).
import '@tensorflow/tfjs-backend-cpu';
import { beforeAll, describe, expect, test } from '@jest/globals';
import * as tf from '@tensorflow/tfjs-core';
import { describeNnSuite } from '../testing/nn-suite';
import { repeatKeyValueHeads } from './causal-attention';

describeNnSuite('cpu', { setup: () => tf.setBackend('cpu'), only: ['causal-attention'] });

describe('repeatKeyValueHeads over a batch (cpu)', () => {
  beforeAll(() => tf.setBackend('cpu'));

  test('equals the per-head gather of repeat_kv, values and gradient bit for bit', () => {
    const x = tf.randomNormal([2, 3, 4, 5], 0, 1, 'float32', 7);
    const dy = tf.randomNormal([2, 6, 4, 5], 0, 1, 'float32', 8);
    // repeat_kv written out: query head h of row b reads kv head floor(h / 2) of row b.
    const reference = (t: tf.Tensor) => tf.gather(t, tf.tensor1d([0, 0, 1, 1, 2, 2], 'int32'), 1);
    expect(Array.from(repeatKeyValueHeads(x, 2).dataSync())).toEqual(Array.from(reference(x).dataSync()));
    const grad = (f: (t: tf.Tensor) => tf.Tensor) => tf.grad((t: tf.Tensor) => tf.sum(tf.mul(f(t), dy)))(x);
    const got = grad((t) => repeatKeyValueHeads(t, 2));
    expect(Array.from(got.dataSync())).toEqual(Array.from(grad(reference).dataSync()));
    // Each kv element receives the sum of its two copies' upstream gradients.
    const dyArr = dy.arraySync() as number[][][][];
    expect((got.arraySync() as number[][][][])[1]![2]![3]![4]).toBeCloseTo(dyArr[1]![4]![3]![4]! + dyArr[1]![5]![3]![4]!, 6);
  });
});
