// The fused AdamW update (wasm, cpu) against torch.optim.AdamW's formula in float64 and against
// the composite ops the trainer runs without it, over several steps; no leaks.
import { beforeAll, describe, expect, test } from '@jest/globals';
import * as tf from '@tensorflow/tfjs-core';
import { tfjsBackendConfigSchema } from '../config';
import { resetBackendSelection, selectBackend } from '../select';
import { AdamWUpdate, type AdamWUpdateAttrs } from '@mmft/core/kernels';
import { expectClose, on, values, type Backend } from './fused/test_utils';

beforeAll(async () => {
  resetBackendSelection();
  await selectBackend(tfjsBackendConfigSchema.parse({ prefer: ['wasm'] }));
  require('@tensorflow/tfjs-backend-cpu');
});

const HYPER = { lr: 1e-2, beta1: 0.9, beta2: 0.98, eps: 1e-6 };

/** torch.optim.AdamW, single-tensor path, float64. */
function torch(p0: Float32Array, grads: Float32Array[], weightDecay: number): Float64Array {
  const p = Float64Array.from(p0);
  const m = new Float64Array(p.length);
  const v = new Float64Array(p.length);
  grads.forEach((g, s) => {
    const t = s + 1;
    for (let i = 0; i < p.length; i++) {
      p[i] = p[i]! * (1 - HYPER.lr * weightDecay);
      m[i] = HYPER.beta1 * m[i]! + (1 - HYPER.beta1) * g[i]!;
      v[i] = HYPER.beta2 * v[i]! + (1 - HYPER.beta2) * g[i]! * g[i]!;
      p[i] = p[i]! - (HYPER.lr / (1 - HYPER.beta1 ** t)) * (m[i]! / (Math.sqrt(v[i]!) / Math.sqrt(1 - HYPER.beta2 ** t) + HYPER.eps));
    }
  });
  return p;
}

/** The trainer's composite update (packages/plugins/trainer-standard/src/optim/adamw.ts). */
function composite(p: tf.Tensor, g: tf.Tensor, m: tf.Tensor, v: tf.Tensor, attrs: AdamWUpdateAttrs): tf.Tensor[] {
  return tf.tidy(() => {
    const decayed = tf.mul(p, 1 - attrs.lr * attrs.weightDecay);
    const m2 = tf.add(tf.mul(m, attrs.beta1), tf.mul(g, 1 - attrs.beta1));
    const v2 = tf.add(tf.mul(v, attrs.beta2), tf.mul(tf.square(g), 1 - attrs.beta2));
    const denom = tf.add(tf.div(tf.sqrt(v2), Math.sqrt(1 - attrs.beta2 ** attrs.step)), attrs.eps);
    return [tf.sub(decayed, tf.mul(tf.div(m2, denom), attrs.lr / (1 - attrs.beta1 ** attrs.step))), m2, v2];
  });
}

function steps(
  update: typeof composite,
  weightDecay: number,
  shape: number[],
  count: number,
): { p: Float32Array; m: Float32Array; v: Float32Array; grads: Float32Array[] } {
  let [p, m, v] = [values(shape), tf.zeros(shape), tf.zeros(shape)];
  const grads: Float32Array[] = [];
  for (let step = 1; step <= count; step++) {
    const g = tf.tidy(() => tf.mul(values(shape, step * 13), 0.1 * step));
    grads.push(g.dataSync() as Float32Array);
    const next = update(p, g, m, v, { ...HYPER, weightDecay, step });
    tf.dispose([p, m, v, g]);
    [p, m, v] = next as [tf.Tensor, tf.Tensor, tf.Tensor];
  }
  const out = { p: p.dataSync() as Float32Array, m: m.dataSync() as Float32Array, v: v.dataSync() as Float32Array, grads };
  tf.dispose([p, m, v]);
  return out;
}

const fused: typeof composite = (param, grad, expAvg, expAvgSq, attrs) =>
  tf.engine().runKernel(AdamWUpdate, { param, grad, expAvg, expAvgSq }, { ...attrs });

describe('fused AdamW update', () => {
  test.each(['cpu', 'wasm'] as Backend[])(
    '%s: equals torch.optim.AdamW and the composite ops over 5 steps, without leaks',
    async (backend) => {
      for (const weightDecay of [0, 0.1]) {
        const reference = await on('cpu', false, () => steps(composite, weightDecay, [7, 13], 5));
        const before = tf.memory().numTensors;
        const result = await on(backend, true, () => steps(fused, weightDecay, [7, 13], 5));
        expect(tf.memory().numTensors).toBe(before);
        expectClose(result.p, torch(values([7, 13]).dataSync() as Float32Array, result.grads, weightDecay), 1e-6);
        expectClose(result.p, reference.p, 1e-6);
        expectClose(result.m, reference.m, 1e-6);
        expectClose(result.v, reference.v, 1e-6);
      }
    },
  );

  test('mismatched shapes are refused with the shapes', async () => {
    await on('wasm', true, () => undefined);
    const t = [tf.zeros([2, 3]), tf.zeros([3, 2]), tf.zeros([2, 3]), tf.zeros([2, 3])] as const;
    expect(() => fused(t[0], t[1], t[2], t[3], { ...HYPER, weightDecay: 0, step: 1 })).toThrow(
      /MmftAdamWUpdate.*\[2, 3\] float32, \[3, 2\] float32/,
    );
    tf.dispose([...t]);
  });
});
