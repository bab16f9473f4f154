// Both sides of mmft's fused kernels agree: the callers (@mmft/core's LayerNorm and activations,
// the trainer's AdamW) reach the kernels @mmft/backend-tfjs registers, by name, and give the
// results of their composite fallback. On the cpu backend, as the other packages' tests run.
import 'reflect-metadata';
import { beforeAll, describe, expect, test } from '@jest/globals';
import * as tf from '@tensorflow/tfjs-core';
import {
  AdamWUpdate, Attention, installKernelOverrides, LayerNorm, Linear, LinearNoBias, MaskedSoftmax, QuickGelu, resetBackendSelection, selectBackend, Softmax,
  SumOfSquares, tfjsBackendConfigSchema,
} from '@mmft/backend-tfjs';
import {
  ATTENTION_KERNEL, LayerNorm as LayerNormModule, LINEAR_KERNEL, LINEAR_NO_BIAS_KERNEL, MASKED_SOFTMAX_KERNEL, quickGelu, registerGradients, SOFTMAX_KERNEL,
} from '@mmft/core/nn';
import { AdamW, SUM_OF_SQUARES_KERNEL } from '@mmft/trainer-standard';

beforeAll(async () => {
  resetBackendSelection();
  await selectBackend(tfjsBackendConfigSchema.parse({ prefer: ['cpu'], overrides: false }));
  registerGradients();
});

/** Three AdamW steps on a weight and a bias; final values, and the kernels the last step ran. */
async function train(fused: boolean): Promise<{ values: number[]; kernels: string[] }> {
  installKernelOverrides('cpu', { fused });
  const init = [tf.tensor2d([[0.5, -1.5, 2], [1, 0.25, -0.75]]), tf.tensor1d([0.1, -0.2])];
  const [w, b] = init.map((t) => tf.variable(t)) as [tf.Variable, tf.Variable];
  tf.dispose(init); // the variables hold their own references
  const opt = new AdamW([{ name: 'w', variable: w, decay: true }, { name: 'b', variable: b, decay: false }], { betas: [0.9, 0.999], eps: 1e-8, weightDecay: 0.1 });
  const grads = (s: number) => new Map([['w', tf.mul(w, 0.3 * s)], ['b', tf.fill([2], -0.5 * s)]]);
  for (const s of [1, 2]) {
    const g = grads(s);
    opt.step(g, 0.01);
    tf.dispose([...g.values()]);
  }
  const g = grads(3);
  const info = await tf.profile(() => opt.step(g, 0.01));
  tf.dispose([...g.values()]);
  const values = [...w.dataSync(), ...b.dataSync()];
  opt.dispose();
  tf.dispose([w, b]);
  return { values, kernels: info.kernels.map((k) => k.name) };
}

describe('fused kernels, caller and kernel side', () => {
  test('AdamW: the trainer runs MmftAdamWUpdate where registered, with the composite path’s results, without leaks', async () => {
    const composite = await train(false);
    const before = tf.memory().numTensors;
    const fused = await train(true);
    expect(tf.memory().numTensors).toBe(before);
    expect(composite.kernels).not.toContain(AdamWUpdate);
    expect(fused.kernels).toEqual([AdamWUpdate, AdamWUpdate]);
    fused.values.forEach((v, i) => expect(v).toBeCloseTo(composite.values[i]!, 6));
  });

  test('core LayerNorm and quick_gelu reach the registered kernels', async () => {
    installKernelOverrides('cpu');
    const ln = new LayerNormModule(4);
    const info = await tf.profile(() => quickGelu(ln.forward(tf.tensor2d([[1, 2, 3, 5]]))));
    ln.dispose();
    expect(info.kernels.map((k) => k.name)).toEqual(expect.arrayContaining([LayerNorm, QuickGelu]));
  });

  test('the native-only kernels have the names core calls', () => {
    // Core cannot import the plugin, so each side spells the names; a rename on one side would
    // silently send core down its composite path.
    expect([SOFTMAX_KERNEL, MASKED_SOFTMAX_KERNEL, ATTENTION_KERNEL, LINEAR_KERNEL, LINEAR_NO_BIAS_KERNEL, SUM_OF_SQUARES_KERNEL]).toEqual([
      Softmax, MaskedSoftmax, Attention, Linear, LinearNoBias, SumOfSquares,
    ]);
  });
});
