// The MmftMatMulPacked16 kernels (frozen Linear weights held in 16 bits) against core's path
// without them (a float32 copy of the decoded weight per call, checked by hand in
// packages/core/src/nn/frozen16.test.ts): forward, input gradient, the kernels launched, leaks.
// On wasm the kernel runs on the native addon only; without it the kernel is not installed.
import { beforeAll, describe, expect, test } from '@jest/globals';
import * as tf from '@tensorflow/tfjs-core';
import '@tensorflow/tfjs-backend-wasm';
import { nativeKernelsStatus } from '@mmft/native-kernels';
import { Linear, registerGradients, type Half16Format } from '@mmft/core/nn';
import { MatMulPacked16 } from '@mmft/core/kernels';
import { expectClose, kernelsOf, on, values, type Backend } from './fused/test_utils';

beforeAll(() => {
  require('@tensorflow/tfjs-backend-cpu');
  registerGradients();
});

// Odd sizes: an odd number of 16-bit values (the last int32 half empty), rows across GEMM blocks.
function packedLayer(inFeatures: number, outFeatures: number, format: Half16Format, bias: boolean): Linear {
  const fc = new Linear(inFeatures, outFeatures, { bias, seed: 3 });
  tf.tidy(() => {
    fc.weight.assign(tf.mul(values([outFeatures, inFeatures], 1), 0.3));
    if (bias) fc.bias!.assign(values([outFeatures], 2));
  });
  fc.weight.trainable = false;
  fc.storeWeight16(format);
  return fc;
}

const run = (fc: Linear, inFeatures: number) => () =>
  tf.tidy(() => {
    const x = values([2, 5, inFeatures], 4);
    const dy = values([2, 5, fc.outFeatures], 9);
    const dx = tf.grad((xx: tf.Tensor) => tf.sum(tf.mul(fc.forward(xx), dy)))(x);
    return { y: Array.from(fc.forward(x).dataSync()), dx: Array.from(dx.dataSync()) };
  });

const backends: Backend[] = ['cpu', ...(nativeKernelsStatus().available ? (['wasm'] as Backend[]) : [])];

describe.each(backends)('MmftMatMulPacked16 on %s', (backend) => {
  test.each([
    [37, 13, 'bf16', true],
    [37, 13, 'fp16', false],
    [300, 70, 'bf16', true],
  ] as Array<[number, number, Half16Format, boolean]>)(
    'in %i out %i %s (bias %p) equals the float32 copy',
    async (inF, outF, format, bias) => {
      const fc = await on(backend, false, () => packedLayer(inF, outF, format, bias));
      const reference = await on(backend, false, run(fc, inF));
      const fused = await on(backend, true, run(fc, inF));
      expectClose(fused.y, reference.y, 1e-5);
      expectClose(fused.dx, reference.dx, 1e-5);
      fc.dispose();
    },
  );

  test('launches the kernel forward and backward, without a float32 weight or leaks', async () => {
    const fc = await on(backend, true, () => packedLayer(37, 13, 'bf16', true));
    await on(backend, true, run(fc, 37));
    const before = tf.memory().numTensors;
    const kernels = await on(backend, true, () => kernelsOf(() => run(fc, 37)().y));
    expect(tf.memory().numTensors).toBe(before);
    expect(kernels.filter((k) => k === MatMulPacked16).length).toBe(3); // two forwards, one input gradient
    expect(kernels).not.toContain('BatchMatMul');
    fc.dispose();
  });
});

test('on wasm the kernel is installed exactly when the addon is', async () => {
  await on('wasm', true, () => undefined);
  expect(tf.getKernel(MatMulPacked16, 'wasm') !== undefined).toBe(nativeKernelsStatus().available);
});
