import '@tensorflow/tfjs-backend-cpu';
import { describe, expect, test } from '@jest/globals';
import * as tf from '@tensorflow/tfjs-core';
import { conv1dPlain } from '../testing/reference-gpt2';
import { Conv1D } from './conv1d';

describe('Conv1D (pytorch_utils.py): weight [in, out], y = x · W + b', () => {
  test('a hand-computed case, any input rank', async () => {
    const layer = new Conv1D(2, 3);
    expect(layer.weight.shape).toEqual([2, 3]);
    expect(layer.bias.shape).toEqual([3]);
    layer.weight.assign(tf.tensor2d([
      [1, 2, 3],
      [4, 5, 6],
    ]));
    layer.bias.assign(tf.tensor1d([0.5, -1, 2]));
    // [1, -1] · W = [1 - 4, 2 - 5, 3 - 6] = [-3, -3, -3]; + b = [-2.5, -4, -1].
    const x = tf.tensor3d([[[1, -1], [0, 2]]]);
    const y = layer.forward(x);
    expect(y.shape).toEqual([1, 2, 3]);
    expect(Array.from(await y.data())).toEqual([-2.5, -4, -1, 8.5, 9, 14]);
    const plain = conv1dPlain([1, -1], { shape: [2, 3], data: new Float32Array([1, 2, 3, 4, 5, 6]) }, { shape: [3], data: new Float32Array([0.5, -1, 2]) });
    expect(Array.from(plain)).toEqual([-2.5, -4, -1]);
    expect(() => layer.forward(tf.zeros([2, 3]))).toThrow('Conv1D(2 → 3) got input of shape [2, 3]; its last dimension must be 2');
    tf.dispose([x, y]);
    layer.dispose();
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
