// The zero-copy wasm Identity and same-dtype Cast: values unchanged, the data shared (one heap
// offset), each reference released on its own, real conversions still converting, gradients
// through saved tensors equal to the cpu backend's, and no leaks.
import { beforeAll, describe, expect, test } from '@jest/globals';
import * as tf from '@tensorflow/tfjs-core';
import type { BackendWasm } from '@tensorflow/tfjs-backend-wasm';
import { tfjsBackendConfigSchema } from '../../config';
import { resetBackendSelection, selectBackend } from '../../select';
import { installKernelOverrides } from '../install';

const offsetOf = (t: tf.Tensor): number => (tf.backend() as BackendWasm).getMemoryOffset(t.dataId);

beforeAll(async () => {
  resetBackendSelection();
  await selectBackend(tfjsBackendConfigSchema.parse({ prefer: ['wasm'] }));
  require('@tensorflow/tfjs-backend-cpu');
  await tf.setBackend('wasm');
  installKernelOverrides('wasm');
});

describe('wasm Identity and Cast overrides', () => {
  test('a clone shares the data and outlives its source', () => {
    const x = tf.tensor2d([
      [1, 2],
      [3, 4],
    ]);
    const y = tf.clone(x);
    expect(offsetOf(y)).toBe(offsetOf(x));
    x.dispose();
    expect(y.arraySync()).toEqual([
      [1, 2],
      [3, 4],
    ]);
    const before = tf.memory().numBytes;
    y.dispose();
    expect(tf.memory().numBytes).toBe(before - 16);
  });

  test('a cast to the same dtype shares the data; a conversion converts', () => {
    tf.tidy(() => {
      const x = tf.tensor1d([1.5, -2.5, 3.25]);
      const same = tf.cast(x, 'float32');
      expect(offsetOf(same)).toBe(offsetOf(x));
      const ints = tf.cast(x, 'int32');
      expect(ints.dtype).toBe('int32');
      expect(Array.from(ints.dataSync())).toEqual([1, -2, 3]);
      const back = tf.cast(tf.tensor1d([1, 0, 7], 'int32'), 'float32');
      expect(Array.from(back.dataSync())).toEqual([1, 0, 7]);
    });
  });

  test('a variable updated by assign leaves earlier clones unchanged', () => {
    const v = tf.variable(tf.tensor1d([1, 2, 3]));
    const snapshot = tf.clone(v);
    v.assign(tf.tensor1d([9, 9, 9]));
    expect(Array.from(snapshot.dataSync())).toEqual([1, 2, 3]);
    expect(Array.from(v.dataSync())).toEqual([9, 9, 9]);
    tf.dispose([v, snapshot]);
  });

  test('gradients through saved activations equal the cpu backend, without leaks', async () => {
    const run = () =>
      tf.tidy(() => {
        const w = tf.tensor2d(
          Array.from({ length: 12 }, (_, i) => Math.sin(i)),
          [3, 4],
        );
        const x = tf.tensor2d(
          Array.from({ length: 6 }, (_, i) => Math.cos(i)),
          [2, 3],
        );
        const g = tf.grad((m: tf.Tensor) => tf.sum(tf.square(tf.sigmoid(tf.matMul(x, m)))))(w);
        return Array.from(g.dataSync());
      });
    await tf.setBackend('cpu');
    const cpu = run();
    await tf.setBackend('wasm');
    run();
    const before = tf.memory();
    const wasm = run();
    const after = tf.memory();
    expect([after.numTensors, after.numBytes]).toEqual([before.numTensors, before.numBytes]);
    expect((tf.backend() as BackendWasm).numDataIds()).toBeGreaterThan(0);
    wasm.forEach((v, i) => expect(Math.abs(v - cpu[i]!)).toBeLessThan(1e-5));
  });
});
