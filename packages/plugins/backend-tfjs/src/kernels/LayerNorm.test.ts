// The fused LayerNorm kernels (wasm, cpu) against core's composite path on cpu: forward and the
// gradients wrt x, weight and bias; core's LayerNorm module reaches the kernel by name; no leaks.
import { beforeAll, describe, expect, test } from '@jest/globals';
import * as tf from '@tensorflow/tfjs-core';
import { LayerNorm as LayerNormModule } from '@mmft/core/nn';
import { tfjsBackendConfigSchema } from '../config';
import { resetBackendSelection, selectBackend } from '../select';
import { LayerNorm, LayerNormGrad } from '@mmft/core/kernels';
import { installKernelOverrides, removeKernelOverrides } from './install';
import { expectClose, kernelsOf, on, values, type Backend } from './fused/test_utils';

beforeAll(async () => {
  resetBackendSelection();
  await selectBackend(tfjsBackendConfigSchema.parse({ prefer: ['wasm'] }));
  require('@tensorflow/tfjs-backend-cpu');
});

/** Forward and gradients of sum(LayerNorm(x) · w) wrt x, weight and bias, as plain arrays. */
function run(shape: number[], eps: number, frozenAffine = false) {
  const d = shape[shape.length - 1]!;
  const ln = new LayerNormModule(d, { eps });
  const [weight, bias] = tf.tidy(() => [tf.add(1, tf.mul(values([d], 3), 0.2)), tf.mul(values([d], 5), 0.1)]);
  ln.param('weight').assign(weight!);
  ln.param('bias').assign(bias!);
  tf.dispose([weight!, bias!]);
  if (frozenAffine) ln.freeze('*');
  const x = values(shape);
  const w = values(shape, 11);
  const out = tf.tidy(() => {
    const y = ln.forward(x);
    const { grads } = frozenAffine
      ? { grads: {} as tf.NamedTensorMap }
      : tf.variableGrads(() => tf.sum(tf.mul(ln.forward(x), w)) as tf.Scalar, [ln.param('weight'), ln.param('bias')]);
    const dx = tf.grad((xx: tf.Tensor) => tf.sum(tf.mul(ln.forward(xx), w)))(x);
    return {
      y: Array.from(y.dataSync()),
      dx: Array.from(dx.dataSync()),
      dw: grads[ln.param('weight').name]?.dataSync(),
      db: grads[ln.param('bias').name]?.dataSync(),
    };
  });
  tf.dispose([x, w]);
  ln.dispose();
  return out;
}

describe('fused LayerNorm', () => {
  const cases: Array<[number[], number]> = [
    [[6, 16], 1e-5],
    [[3, 5, 33], 1e-5],
    [[2, 7, 128], 1e-12],
    [[1, 1], 1e-5],
  ];
  test.each(['cpu', 'wasm'] as Backend[])('%s: forward and gradients equal the composite ops on cpu', async (backend) => {
    for (const [shape, eps] of cases) {
      const reference = await on('cpu', false, () => run(shape, eps));
      const fused = await on(backend, true, () => run(shape, eps));
      expectClose(fused.y, reference.y);
      expectClose(fused.dx, reference.dx, 1e-4);
      expectClose(fused.dw!, reference.dw!, 1e-4);
      expectClose(fused.db!, reference.db!, 1e-4);
    }
  });

  test.each(['cpu', 'wasm'] as Backend[])('%s: core LayerNorm launches the fused kernels, without leaks', async (backend) => {
    await on(backend, true, () => run([4, 8], 1e-5)); // warm-up
    const before = tf.memory().numTensors;
    await on(backend, true, () => run([4, 8], 1e-5));
    expect(tf.memory().numTensors).toBe(before);
    const kernels = await on(backend, true, () => kernelsOf(() => run([4, 8], 1e-5).y));
    expect(kernels).toContain(LayerNorm);
    expect(kernels).toContain(LayerNormGrad);
    expect(kernels).not.toContain('Rsqrt');
  });

  test('frozen weight and bias: only dx is needed', async () => {
    const reference = await on('cpu', false, () => run([5, 12], 1e-5, true));
    const before = tf.memory().numTensors;
    const fused = await on('wasm', true, () => run([5, 12], 1e-5, true));
    expect(tf.memory().numTensors).toBe(before);
    expectClose(fused.dx, reference.dx, 1e-4);
  });

  test('without the kernel (fused: false) core falls back to the composite ops', async () => {
    const kernels = await on('wasm', false, () => kernelsOf(() => run([4, 8], 1e-5).y));
    expect(kernels).not.toContain(LayerNorm);
    expect(tf.getKernel(LayerNorm, 'wasm')).toBeUndefined();
    await on('wasm', true, () => undefined);
    expect(tf.getKernel(LayerNorm, 'wasm')).toBeDefined();
    expect(tf.getGradient(LayerNorm)).toBeDefined();
    installKernelOverrides('cpu');
    removeKernelOverrides('wasm');
    expect(tf.getGradient(LayerNorm)).toBeDefined(); // the cpu kernel still needs it
    removeKernelOverrides();
    expect([tf.getKernel(LayerNorm, 'wasm'), tf.getKernel(LayerNorm, 'cpu'), tf.getGradient(LayerNorm)]).toEqual([
      undefined,
      undefined,
      undefined,
    ]);
  });

  test('a bad gamma shape is refused with the shapes', async () => {
    await on('wasm', true, () => undefined);
    expect(() =>
      tf.engine().runKernel(LayerNorm, { x: tf.zeros([2, 4]), gamma: tf.ones([3]), beta: tf.zeros([3]) }, { eps: 1e-5 }),
    ).toThrow(/MmftLayerNorm.*\[2, 4\] float32, \[3\] float32/);
  });
});
