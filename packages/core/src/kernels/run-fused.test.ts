// runFused runs a fused kernel by its table name where the active backend registers it (inputs and
// attrs reach the kernel; the call is taped, so a registered gradient applies), and returns
// undefined where it does not, so callers fall back to their composite ops.
import { afterEach, beforeAll, describe, expect, test } from '@jest/globals';
import * as tf from '@tensorflow/tfjs-core';
import '@tensorflow/tfjs-backend-cpu';
import type { MathBackendCPU } from '@tensorflow/tfjs-backend-cpu';
import { FUSED_KERNELS, isRegistered, LayerNorm, runFused } from './index';

beforeAll(async () => {
  await tf.setBackend('cpu');
});
afterEach(() => {
  if (tf.getKernel(LayerNorm, 'cpu')) tf.unregisterKernel(LayerNorm, 'cpu');
});

describe('runFused', () => {
  test('undefined where the backend has no such kernel', () => {
    expect(isRegistered(LayerNorm)).toBe(false);
    const [x, g, b] = [tf.ones([2, 3]), tf.ones([3]), tf.zeros([3])];
    expect(runFused(LayerNorm, { x, gamma: g, beta: b }, { eps: 1e-5 })).toBeUndefined();
    tf.dispose([x, g, b]);
  });

  test('runs the registered kernel with the inputs and attrs given', () => {
    const seen: { inputs: string[]; eps: number }[] = [];
    tf.registerKernel({
      kernelName: LayerNorm,
      backendName: 'cpu',
      kernelFunc: ({ inputs, attrs, backend }) => {
        seen.push({ inputs: Object.keys(inputs), eps: (attrs as unknown as { eps: number }).eps });
        const x = inputs.x!;
        const values = (backend as MathBackendCPU).data.get(x.dataId)!.values as Float32Array;
        return (backend as MathBackendCPU).makeTensorInfo(
          x.shape,
          'float32',
          values.map((v) => v * 2),
        );
      },
    });
    const [x, g, b] = [tf.ones([2, 3]), tf.ones([3]), tf.zeros([3])];
    const y = runFused(LayerNorm, { x, gamma: g, beta: b }, { eps: 0.5 });
    expect(y && Array.from(y.dataSync())).toEqual([2, 2, 2, 2, 2, 2]);
    expect(seen).toEqual([{ inputs: ['x', 'gamma', 'beta'], eps: 0.5 }]);
    tf.dispose([x, g, b, y!]);
  });

  test('every name is an Mmft name, listed once', () => {
    expect(new Set(FUSED_KERNELS).size).toBe(FUSED_KERNELS.length);
    for (const name of FUSED_KERNELS) expect(name).toMatch(/^Mmft[A-Z]\w+$/);
  });
});
