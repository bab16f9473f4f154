// AdamW and clipGradNorm run the fused kernels of @mmft/core/kernels where the active backend
// registers them (here a stand-in cpu kernel with torch's formula, as backend-tfjs registers its
// own), with the composite path's results and no leaked tensors; without them, the composite ops.
import '@tensorflow/tfjs-backend-cpu';
import * as tf from '@tensorflow/tfjs-core';
import type { MathBackendCPU } from '@tensorflow/tfjs-backend-cpu';
import { afterEach, beforeAll, describe, expect, test } from '@jest/globals';
import { AdamWUpdate, SumOfSquares, type AdamWUpdateAttrs } from '@mmft/core/kernels';
import { AdamW } from './adamw';
import { clipGradNorm } from './clip-grad';

const floats = (backend: MathBackendCPU, info: tf.TensorInfo): Float32Array => backend.data.get(info.dataId)!.values as Float32Array;

/** torch.optim.AdamW's single-tensor step in float64, as a cpu kernel. */
function registerAdamW(): void {
  tf.registerKernel({
    kernelName: AdamWUpdate,
    backendName: 'cpu',
    kernelFunc: ({ inputs, attrs, backend }) => {
      const cpu = backend as MathBackendCPU;
      const [p, g, m, v] = [inputs.param!, inputs.grad!, inputs.expAvg!, inputs.expAvgSq!].map((t) => floats(cpu, t));
      const { lr, beta1, beta2, eps, weightDecay, step } = attrs as unknown as AdamWUpdateAttrs;
      const [p2, m2, v2] = [0, 0, 0].map(() => new Float32Array(p!.length));
      for (let i = 0; i < p!.length; i++) {
        m2![i] = beta1 * m![i]! + (1 - beta1) * g![i]!;
        v2![i] = beta2 * v![i]! + (1 - beta2) * g![i]! * g![i]!;
        const denom = Math.sqrt(v2![i]!) / Math.sqrt(1 - beta2 ** step) + eps;
        p2![i] = p![i]! * (1 - lr * weightDecay) - (lr / (1 - beta1 ** step)) * (m2![i]! / denom);
      }
      return [p2, m2, v2].map((values) => cpu.makeTensorInfo(inputs.param!.shape, 'float32', values));
    },
  });
}

beforeAll(async () => {
  await tf.setBackend('cpu');
});
afterEach(() => {
  for (const name of [AdamWUpdate, SumOfSquares]) if (tf.getKernel(name, 'cpu')) tf.unregisterKernel(name, 'cpu');
});

/** Three AdamW steps on a weight and a bias; final values, and the kernels the last step ran. */
async function train(): Promise<{ values: number[]; kernels: string[] }> {
  const init = [
    tf.tensor2d([
      [0.5, -1.5, 2],
      [1, 0.25, -0.75],
    ]),
    tf.tensor1d([0.1, -0.2]),
  ];
  const [w, b] = init.map((t) => tf.variable(t)) as [tf.Variable, tf.Variable];
  tf.dispose(init);
  const opt = new AdamW(
    [
      { name: 'w', variable: w, decay: true },
      { name: 'b', variable: b, decay: false },
    ],
    { betas: [0.9, 0.999], eps: 1e-8, weightDecay: 0.1 },
  );
  const grads = (s: number) =>
    new Map([
      ['w', tf.mul(w, 0.3 * s)],
      ['b', tf.fill([2], -0.5 * s)],
    ]);
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

describe('fused kernels in the optimizer', () => {
  test('AdamW runs AdamWUpdate once per parameter where registered, with the composite results, without leaks', async () => {
    const composite = await train();
    registerAdamW();
    const before = tf.memory().numTensors;
    const fused = await train();
    expect(tf.memory().numTensors).toBe(before);
    expect(composite.kernels).not.toContain(AdamWUpdate);
    expect(fused.kernels).toEqual([AdamWUpdate, AdamWUpdate]);
    fused.values.forEach((v, i) => expect(v).toBeCloseTo(composite.values[i]!, 6));
  });

  test('clipGradNorm sums the squares in one SumOfSquares call where registered', async () => {
    const grads = new Map<string, tf.Tensor>([
      ['a', tf.tensor1d([3, 0])],
      ['b', tf.tensor2d([[4]])],
    ]);
    const composite = tf.tidy(() => clipGradNorm(grads, 0).totalNorm.dataSync()[0]);
    tf.registerKernel({
      kernelName: SumOfSquares,
      backendName: 'cpu',
      kernelFunc: ({ inputs, backend }) => {
        const cpu = backend as MathBackendCPU;
        const total = Object.values(inputs).reduce((s, t) => s + floats(cpu, t!).reduce((a, x) => a + x * x, 0), 0);
        return cpu.makeTensorInfo([], 'float32', Float32Array.of(total));
      },
    });
    const info = await tf.profile(() => tf.tidy(() => clipGradNorm(grads, 0).totalNorm));
    expect(info.kernels.map((k) => k.name)).toContain(SumOfSquares);
    expect(composite).toBeCloseTo(5, 6);
    expect((info.result as tf.Tensor).dataSync()[0]).toBeCloseTo(5, 6);
    tf.dispose([info.result as tf.Tensor, ...grads.values()]);
  });
});
