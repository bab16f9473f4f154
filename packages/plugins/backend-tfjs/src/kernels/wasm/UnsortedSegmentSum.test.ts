// The wasm UnsortedSegmentSum kernel (wasm lacks one) against the cpu backend, and the gradient
// of an embedding lookup on wasm, which is what needs it.
import { beforeAll, describe, expect, test } from '@jest/globals';
import * as tf from '@tensorflow/tfjs-core';
import { tfjsBackendConfigSchema } from '../../config';
import { resetBackendSelection, selectBackend } from '../../select';

async function on<T>(backend: 'cpu' | 'wasm', run: () => T): Promise<T> {
  await tf.setBackend(backend);
  return run();
}

beforeAll(async () => {
  resetBackendSelection();
  await selectBackend(tfjsBackendConfigSchema.parse({ prefer: ['wasm'] }));
  require('@tensorflow/tfjs-backend-cpu');
});

describe('wasm UnsortedSegmentSum', () => {
  const x = [1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12];
  const cases: Array<[string, number[], number[], [number], number]> = [
    ['rows of a matrix, repeated ids', [4, 3], [0, 2, 0, 1], [4], 3],
    ['ids out of range are dropped', [4, 3], [0, -1, 5, 1], [4], 3],
    ['rows of a rank-3 tensor', [4, 1, 3], [3, 3, 0, 1], [4], 4],
  ];
  test.each(cases)('%s: equals the cpu kernel', async (_label, xShape, ids, idShape, numSegments) => {
    const run = () => tf.tidy(() => tf.unsortedSegmentSum(tf.tensor(x, xShape), tf.tensor(ids, idShape, 'int32'), numSegments).arraySync());
    expect(await on('wasm', run)).toEqual(await on('cpu', run));
  });

  test('the gradient of tf.gather (an embedding) works on wasm and matches cpu, without leaks', async () => {
    const grad = () =>
      tf.tidy(() => {
        const table = tf.tensor2d([
          [1, 2],
          [3, 4],
          [5, 6],
        ]);
        const ids = tf.tensor1d([2, 0, 2, 1, 2], 'int32');
        const g = tf.grad((t: tf.Tensor) =>
          tf.sum(
            tf.mul(
              tf.gather(t, ids),
              tf.tensor2d([
                [1, 1],
                [2, 2],
                [3, 3],
                [4, 4],
                [5, 5],
              ]),
            ),
          ),
        );
        return g(table).arraySync();
      });
    await on('wasm', grad);
    const before = tf.memory().numTensors;
    const onWasm = await on('wasm', grad);
    expect(tf.memory().numTensors).toBe(before);
    expect(onWasm).toEqual([
      [2, 2],
      [4, 4],
      [9, 9],
    ]);
    expect(onWasm).toEqual(await on('cpu', grad));
  });
});
