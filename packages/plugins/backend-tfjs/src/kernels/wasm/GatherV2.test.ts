// The wasm GatherV2 override against the cpu backend: row lookups (its own path) of float32 and
// int32 tables with indices of any shape, repeated and empty; other axes and batch dims (the stock
// kernel); the embedding gradient through it; an out-of-range index raising the stock message
// without leaking.
import { beforeAll, describe, expect, test } from '@jest/globals';
import * as tf from '@tensorflow/tfjs-core';
import { registerGradients } from '@mmft/core/nn';
import { tfjsBackendConfigSchema } from '../../config';
import { resetBackendSelection, selectBackend } from '../../select';
import { installKernelOverrides } from '../install';

async function on<T>(backend: 'cpu' | 'wasm', run: () => T): Promise<T> {
  await tf.setBackend(backend);
  if (backend === 'wasm') installKernelOverrides('wasm');
  return run();
}

const table = (shape: number[], dtype: 'float32' | 'int32' = 'float32') =>
  tf.tensor(
    Array.from({ length: tf.util.sizeFromShape(shape) }, (_, i) => (dtype === 'int32' ? i * 3 - 7 : Math.sin(i * 0.37) * 4)),
    shape,
    dtype,
  );

beforeAll(async () => {
  resetBackendSelection();
  await selectBackend(tfjsBackendConfigSchema.parse({ prefer: ['wasm'] }));
  require('@tensorflow/tfjs-backend-cpu');
  registerGradients();
});

describe('wasm GatherV2 override', () => {
  const cases: Array<[string, () => tf.Tensor]> = [
    [
      'rows of a float32 table by [2, 3] ids',
      () =>
        tf.gather(
          table([7, 5]),
          tf.tensor2d(
            [
              [0, 6, 3],
              [3, 3, 1],
            ],
            [2, 3],
            'int32',
          ),
        ),
    ],
    ['rows of a rank-3 int32 table', () => tf.gather(table([4, 2, 3], 'int32'), tf.tensor1d([3, 0, 0], 'int32'))],
    ['no ids', () => tf.gather(table([4, 3]), tf.tensor1d([], 'int32'))],
    ['axis 1 (stock kernel)', () => tf.gather(table([3, 4, 2]), tf.tensor1d([2, 0], 'int32'), 1)],
    [
      'batch dims (stock kernel)',
      () =>
        tf.gather(
          table([2, 4, 3]),
          tf.tensor2d(
            [
              [1, 0],
              [3, 3],
            ],
            [2, 2],
            'int32',
          ),
          1,
          1,
        ),
    ],
  ];
  test.each(cases)('%s equals cpu', async (_, run) => {
    const read = () =>
      tf.tidy(() => {
        const t = run();
        return { shape: t.shape, data: Array.from(t.dataSync()) };
      });
    const cpu = await on('cpu', read);
    expect(await on('wasm', read)).toEqual(cpu);
  });

  test('the embedding gradient through it equals cpu, without leaks', async () => {
    const grad = () =>
      tf.tidy(() =>
        Array.from(
          tf
            .grad((w: tf.Tensor) => tf.sum(tf.square(tf.gather(w, tf.tensor1d([1, 4, 1], 'int32')))))(table([5, 3]))
            .dataSync(),
        ),
      );
    const cpu = await on('cpu', grad);
    await on('wasm', grad);
    const before = tf.memory().numTensors;
    expect(await on('wasm', grad)).toEqual(cpu);
    expect(tf.memory().numTensors).toBe(before);
  });

  test('an index out of range raises the stock message and leaks nothing', async () => {
    await on('wasm', () => undefined);
    const x = table([3, 2]);
    const ids = tf.tensor1d([0, 3], 'int32');
    const before = tf.memory().numBytes;
    expect(() => tf.gather(x, ids)).toThrow('GatherV2: the index value 3 is not in [0, 2]');
    expect(tf.memory().numBytes).toBe(before);
    tf.dispose([x, ids]);
  });
});
