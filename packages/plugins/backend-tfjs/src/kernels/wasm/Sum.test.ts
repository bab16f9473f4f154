// The wasm Sum override against the cpu backend: leading-axis reductions (its own path) and every
// other axis set (the stock kernel), keepDims, a bias gradient through it, and no leaks.
import { beforeAll, describe, expect, test } from '@jest/globals';
import * as tf from '@tensorflow/tfjs-core';
import { tfjsBackendConfigSchema } from '../../config';
import { resetBackendSelection, selectBackend } from '../../select';
import { installKernelOverrides } from '../install';

async function on<T>(backend: 'cpu' | 'wasm', run: () => T): Promise<T> {
  await tf.setBackend(backend);
  if (backend === 'wasm') installKernelOverrides('wasm');
  return run();
}

const x = (shape: number[]) =>
  tf.tensor(
    Array.from({ length: tf.util.sizeFromShape(shape) }, (_, i) => Math.sin(i * 0.37) * (1 + (i % 7))),
    shape,
  );

beforeAll(async () => {
  resetBackendSelection();
  await selectBackend(tfjsBackendConfigSchema.parse({ prefer: ['wasm'] }));
  require('@tensorflow/tfjs-backend-cpu');
});

describe('wasm Sum override', () => {
  const cases: Array<[number[], number | number[], boolean]> = [
    [[33, 17], 0, false],
    [[4, 9, 17], [0, 1], false],
    [[4, 9, 17], [1, 0], true],
    [[4, 9, 17], -3, false],
    [[4, 9, 17], 1, false], // not a prefix: stock kernel
    [[4, 9, 17], [0, 2], true], // not a prefix: stock kernel
    [[4, 9, 17], [0, 1, 2], false], // everything: stock kernel
    [[5, 0, 3], 0, false],
  ];
  test.each(cases)('sum of %j over %j (keepDims %s) equals cpu', async (shape, axis, keepDims) => {
    const run = () =>
      tf.tidy(() => {
        const s = tf.sum(x(shape), axis, keepDims);
        return { shape: s.shape, data: Array.from(s.dataSync()) };
      });
    const cpu = await on('cpu', run);
    const wasm = await on('wasm', run);
    expect(wasm.shape).toEqual(cpu.shape);
    const scale = Math.max(1, ...cpu.data.map(Math.abs));
    wasm.data.forEach((v, i) => expect(Math.abs(v - cpu.data[i]!)).toBeLessThan(1e-5 * scale));
  });

  test('int32 goes to the stock kernel', async () => {
    expect(
      await on('wasm', () =>
        tf.tidy(() =>
          tf
            .sum(
              tf.tensor2d(
                [
                  [1, 2],
                  [3, 4],
                ],
                [2, 2],
                'int32',
              ),
              0,
            )
            .arraySync(),
        ),
      ),
    ).toEqual([4, 6]);
  });

  test('the gradient of a bias add (a leading-axis sum) matches cpu, without leaks', async () => {
    const grad = () =>
      tf.tidy(
        () =>
          tf
            .grad((b: tf.Tensor) => tf.sum(tf.square(tf.add(x([6, 5, 8]), b))))(tf.ones([8]))
            .arraySync() as number[],
      );
    const cpu = await on('cpu', grad);
    await on('wasm', grad);
    const before = tf.memory().numTensors;
    const wasm = await on('wasm', grad);
    expect(tf.memory().numTensors).toBe(before);
    wasm.forEach((v, i) => expect(Math.abs(v - cpu[i]!)).toBeLessThan(1e-4));
  });
});
