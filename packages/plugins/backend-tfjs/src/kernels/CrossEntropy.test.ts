// The fused cross-entropy (CrossEntropy, CrossEntropyGrad) as backends install it: core's
// cross-entropy suite re-run on cpu (JavaScript kernels) and wasm (native kernels, where the addon
// is built), rows enough to split over threads against the tfjs-ops path, and what it is for:
// memory. Between the forward and the backward pass the fused path keeps one fewer handle on the
// logits (tf.memory().numBytes counts a kept view of a tensor as its size again), and over both
// passes it allocates only the gradient where the tfjs path allocates several [N, V] temporaries.
import { describe, expect, test } from '@jest/globals';
import * as tf from '@tensorflow/tfjs-core';
import { CrossEntropy, CrossEntropyGrad } from '@mmft/core/kernels';
import { causalLmLoss } from '@mmft/core/lm';
import { registerGradients } from '@mmft/core/nn';
import { describeNnSuite } from '@mmft/core/testing';
import { nativeKernelsStatus } from '@mmft/native-kernels';
import { tfjsBackendConfigSchema } from '../config';
import { resetBackendSelection, selectBackend } from '../select';
import { installKernelOverrides, installedKernelOverrides } from './install';
import { expectClose, values } from './fused/test_utils';

const native = nativeKernelsStatus().available;
if (!native) console.warn(`wasm cross-entropy not tested: ${(nativeKernelsStatus() as { reason: string }).reason}`);

async function use(backend: 'cpu' | 'wasm'): Promise<void> {
  resetBackendSelection();
  const selection = await selectBackend(tfjsBackendConfigSchema.parse({ prefer: [backend] }));
  expect(selection.name).toBe(backend);
  registerGradients();
}

describeNnSuite('cpu with mmft kernel overrides', {
  async setup() {
    await use('cpu');
    expect(installedKernelOverrides('cpu')).toEqual(expect.arrayContaining([CrossEntropy, CrossEntropyGrad]));
  },
  only: ['cross-entropy'],
});

describeNnSuite('wasm with mmft kernel overrides', {
  async setup() {
    await use('wasm');
    // Native only: without the addon the suite checks the tfjs path.
    expect(installedKernelOverrides('wasm').includes(CrossEntropy)).toBe(native);
    expect(installedKernelOverrides('wasm').includes(CrossEntropyGrad)).toBe(native);
  },
  only: ['cross-entropy'],
});

/** Labels for logits [B, T, V]: every third position -100, the rest spread over the vocabulary. */
const labelsFor = (batch: number, length: number, vocab: number): tf.Tensor2D =>
  tf.tensor2d(
    Array.from({ length: batch * length }, (_, i) => (i % 3 === 0 ? -100 : (i * 7919) % vocab)),
    [batch, length],
    'int32',
  );

/**
 * Loss and gradient of causalLmLoss, with the fused kernels installed or not, and the bytes
 * tf.memory() counts: kept from the end of the forward pass into the backward pass, and the peak
 * over both passes (tf.profile), each above what was allocated before.
 */
async function measure(backend: 'cpu' | 'wasm', fused: boolean, logits: tf.Tensor, labels: tf.Tensor) {
  installKernelOverrides(backend, { fused });
  let kept = 0;
  let result: { loss: number; grad: Float32Array } = { loss: 0, grad: new Float32Array(0) };
  const start = tf.memory().numBytes;
  const profile = await tf.profile(() => {
    const { value, grad } = tf.valueAndGrad((x: tf.Tensor) => {
      const before = tf.memory().numBytes;
      const loss = causalLmLoss(x, labels);
      kept = tf.memory().numBytes - before;
      return loss;
    })(logits);
    result = { loss: value.dataSync()[0]!, grad: grad.dataSync() as Float32Array };
    tf.dispose([value, grad]);
  });
  expect(tf.memory().numBytes).toBe(start);
  const kernels = profile.kernels.map((k) => k.name);
  expect(kernels.includes(CrossEntropy) && kernels.includes(CrossEntropyGrad)).toBe(fused);
  return { ...result, kept, peak: profile.peakBytes - start };
}

describe.each([
  ['cpu', [2, 16, 509]],
  ['wasm', [2, 66, 2003]], // 132k logits: above the native kernels' threshold for several threads
] as const)('fused cross-entropy on %s against the tfjs path', (backend, shape) => {
  const [batch, length, vocab] = shape;
  const run = backend === 'cpu' || native ? test : test.skip;

  run('same loss and gradient; fewer bytes kept between the passes and a lower peak', async () => {
    await use(backend);
    const logits = tf.mul(values([...shape], 5), 3);
    const labels = labelsFor(batch, length, vocab);
    const composite = await measure(backend, false, logits, labels);
    const fused = await measure(backend, true, logits, labels);
    installKernelOverrides(backend);
    expect(Math.abs(fused.loss - composite.loss)).toBeLessThanOrEqual(2e-6 * composite.loss);
    expectClose(fused.grad, composite.grad, 2e-6);

    const logitBytes = batch * length * vocab * 4;
    // Between the passes neither keeps an [N, V] buffer of its own, only handles on the logits:
    // the tfjs path two (its reshape and its custom gradient's input), the fused kernel one.
    expect(composite.kept - fused.kept).toBeGreaterThanOrEqual(logitBytes);
    expect(fused.kept).toBeLessThan(logitBytes + 64 * batch * length);
    // Over both passes the fused path adds the gradient to that one handle; the tfjs path holds
    // the exp, one-hot and difference buffers of its backward pass at once.
    expect(fused.peak).toBeLessThan(2 * logitBytes + 64 * batch * length);
    expect(composite.peak - fused.peak).toBeGreaterThan(5 * logitBytes);
    tf.dispose([logits, labels]);
  });
});
