// The native wasm Add override against the cpu backend: same shapes, a bias row on either side,
// a [1, 1, C] block, shapes it leaves to the stock kernel (true broadcasts, int32), and the
// gradient of a bias add, without leaks. Skipped without the native addon (not installed then).
import { beforeAll, describe, expect, test } from '@jest/globals';
import * as tf from '@tensorflow/tfjs-core';
import { nativeKernelsStatus } from '@mmft/native-kernels';
import { registerGradients } from '@mmft/core/nn';
import { tfjsBackendConfigSchema } from '../../config';
import { resetBackendSelection, selectBackend } from '../../select';
import { installedKernelOverrides, installKernelOverrides } from '../install';

const status = nativeKernelsStatus();
const maybe = status.available ? describe : describe.skip;

async function on<T>(backend: 'cpu' | 'wasm', run: () => T): Promise<T> {
  await tf.setBackend(backend);
  if (backend === 'wasm') installKernelOverrides('wasm');
  return run();
}

const x = (shape: number[], seed = 0) =>
  tf.tensor(
    Array.from({ length: tf.util.sizeFromShape(shape) }, (_, i) => Math.sin((i + seed) * 0.37) * 3),
    shape,
  );

beforeAll(async () => {
  resetBackendSelection();
  await selectBackend(tfjsBackendConfigSchema.parse({ prefer: ['wasm'] }));
  require('@tensorflow/tfjs-backend-cpu');
  registerGradients();
});

test('the Add override is installed exactly when the native addon is', async () => {
  await on('wasm', () => undefined);
  expect(installedKernelOverrides('wasm').includes('Add')).toBe(status.available);
});

maybe('native wasm Add override', () => {
  const cases: Array<[number[], number[]]> = [
    [
      [32, 65, 128],
      [32, 65, 128],
    ],
    [[2080, 128], [128]],
    [[128], [2080, 128]],
    [
      [3, 4, 5],
      [1, 1, 5],
    ],
    [
      [3, 4, 5],
      [4, 5],
    ],
    [
      [3, 4, 5],
      [3, 1, 5],
    ], // a true broadcast: stock kernel
    [
      [3, 1],
      [1, 4],
    ], // both broadcast: stock kernel
    [[2, 3], []], // a scalar: repeated, m = 1
  ];
  test.each(cases)('%j + %j equals cpu', async (sa, sb) => {
    const run = () =>
      tf.tidy(() => {
        const s = tf.add(x(sa, 1), x(sb, 2));
        return { shape: s.shape, data: Array.from(s.dataSync()) };
      });
    const cpu = await on('cpu', run);
    expect(await on('wasm', run)).toEqual(cpu);
  });

  test('int32 goes to the stock kernel', async () => {
    expect(await on('wasm', () => tf.tidy(() => tf.add(tf.tensor1d([1, 2], 'int32'), tf.tensor1d([3, 4], 'int32')).arraySync()))).toEqual([
      4, 6,
    ]);
  });

  test('a bias gradient through it equals cpu, without leaks', async () => {
    const grad = () =>
      tf.tidy(() =>
        Array.from(
          tf
            .grad((b: tf.Tensor) => tf.sum(tf.square(tf.add(x([6, 8]), b))))(tf.ones([8]))
            .dataSync(),
        ),
      );
    const cpu = await on('cpu', grad);
    await on('wasm', grad);
    const before = tf.memory().numTensors;
    const wasm = await on('wasm', grad);
    expect(tf.memory().numTensors).toBe(before);
    wasm.forEach((v, i) => expect(Math.abs(v - cpu[i]!)).toBeLessThan(1e-4));
  });
});
