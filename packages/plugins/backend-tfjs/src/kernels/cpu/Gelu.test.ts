// The fused gelu and quick_gelu kernels (cpu backend only: on wasm they lost to the stock
// vectorised kernels, docs/backends.md) against core's composite path: forward, gradient, leaks.
import { beforeAll, describe, expect, test } from '@jest/globals';
import * as tf from '@tensorflow/tfjs-core';
import { gelu, quickGelu, registerGradients, type Activation } from '@mmft/core/nn';
import { Gelu, GeluGrad, QuickGelu, QuickGeluGrad } from '@mmft/core/kernels';
import { expectClose, kernelsOf, on, values } from '../fused/test_utils';

beforeAll(() => {
  require('@tensorflow/tfjs-backend-cpu');
  registerGradients();
});

const run = (act: Activation) => () =>
  tf.tidy(() => {
    const x = tf.mul(values([5, 9, 13]), 1.5);
    const w = values([5, 9, 13], 7);
    const dx = tf.grad((xx: tf.Tensor) => tf.sum(tf.mul(act(xx), w)))(x);
    return { y: Array.from(act(x).dataSync()), dx: Array.from(dx.dataSync()) };
  });

describe.each([
  ['gelu', gelu, Gelu, GeluGrad],
  ['quick_gelu', quickGelu, QuickGelu, QuickGeluGrad],
] as const)('fused %s on cpu', (_, act, kernel, gradKernel) => {
  test('forward and gradient equal the composite ops', async () => {
    const reference = await on('cpu', false, run(act));
    const fused = await on('cpu', true, run(act));
    expectClose(fused.y, reference.y);
    expectClose(fused.dx, reference.dx, 1e-5);
  });

  test('core launches the fused kernels, without leaks; not registered on wasm', async () => {
    await on('cpu', true, run(act));
    const before = tf.memory().numTensors;
    const kernels = await on('cpu', true, () => kernelsOf(() => run(act)().y));
    expect(tf.memory().numTensors).toBe(before);
    expect(kernels).toEqual(expect.arrayContaining([kernel, gradKernel]));
    expect(tf.getKernel(kernel, 'wasm')).toBeUndefined();
  });
});
