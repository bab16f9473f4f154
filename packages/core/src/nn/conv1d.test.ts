// Conv1D (transformers pytorch_utils.py): weight [in, out], y = x · W + b, HF's init, state-dict names.
import '@tensorflow/tfjs-backend-cpu';
import { beforeAll, describe, expect, test } from '@jest/globals';
import * as tf from '@tensorflow/tfjs-core';
import { Conv1D } from './conv1d';
import { Linear } from './linear';

beforeAll(async () => {
  await tf.setBackend('cpu');
});

describe('Conv1D (pytorch_utils.py): weight [in, out], y = x · W + b', () => {
  test('a hand-computed case, any input rank; a wrong width names the layer', async () => {
    const layer = new Conv1D(2, 3);
    expect(layer.weight.shape).toEqual([2, 3]);
    expect(layer.bias.shape).toEqual([3]);
    expect(layer.namedParameters().map(([n]) => n)).toEqual(['weight', 'bias']);
    layer.weight.assign(
      tf.tensor2d([
        [1, 2, 3],
        [4, 5, 6],
      ]),
    );
    layer.bias.assign(tf.tensor1d([0.5, -1, 2]));
    // [1, -1] · W = [1 - 4, 2 - 5, 3 - 6] = [-3, -3, -3]; + b = [-2.5, -4, -1].
    // [0, 2] · W = [8, 10, 12]; + b = [8.5, 9, 14].
    const x = tf.tensor3d([
      [
        [1, -1],
        [0, 2],
      ],
    ]);
    const y = layer.forward(x);
    expect(y.shape).toEqual([1, 2, 3]);
    expect(Array.from(await y.data())).toEqual([-2.5, -4, -1, 8.5, 9, 14]);
    const y1 = layer.forward(tf.tensor1d([1, -1]));
    expect(y1.shape).toEqual([3]);
    expect(Array.from(await y1.data())).toEqual([-2.5, -4, -1]);
    expect(() => layer.forward(tf.zeros([2, 3]))).toThrow('Conv1D(2 → 3) got input of shape [2, 3]; its last dimension must be 2');
    tf.dispose([x, y, y1]);
    layer.dispose();
  });

  test('equals a Linear holding the transposed weight', async () => {
    const conv = new Conv1D(4, 3, { seed: 2 });
    tf.tidy(() => conv.bias.assign(tf.tensor1d([0.1, -0.2, 0.3])));
    const linear = new Linear(4, 3);
    tf.tidy(() => {
      linear.weight.assign(tf.transpose(conv.weight));
      linear.bias!.assign(conv.bias);
    });
    const x = tf.randomNormal([2, 5, 4], 0, 1, 'float32', 7);
    const [a, b] = [conv.forward(x), linear.forward(x)];
    const [da, db] = [await a.data(), await b.data()];
    da.forEach((v, i) => expect(Math.abs(v - db[i]!)).toBeLessThanOrEqual(1e-6));
    tf.dispose([x, a, b]);
    conv.dispose();
    linear.dispose();
  });

  test('HF init: weight N(0, 0.02) seeded, bias zeros; marks fan_in_fan_out for PEFT', async () => {
    const a = new Conv1D(64, 64, { seed: 5 });
    const b = new Conv1D(64, 64, { seed: 5 });
    const w = (await a.weight.data()) as Float32Array;
    expect(Array.from(w)).toEqual(Array.from(await b.weight.data()));
    const mean = w.reduce((s, v) => s + v, 0) / w.length;
    const std = Math.sqrt(w.reduce((s, v) => s + (v - mean) ** 2, 0) / w.length);
    expect(Math.abs(mean)).toBeLessThan(0.002);
    expect(Math.abs(std - 0.02)).toBeLessThan(0.002);
    expect(Array.from(await a.bias.data()).every((v) => v === 0)).toBe(true);
    expect(a.fanInFanOut).toBe(true);
    a.dispose();
    b.dispose();
  });
});
