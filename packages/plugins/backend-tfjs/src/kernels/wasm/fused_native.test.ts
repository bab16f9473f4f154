// The wasm fused kernels' two paths agree: with the native addon (@mmft/native-kernels) they run
// in C++, otherwise (MMFT_NATIVE=0, or the addon not built) in the JavaScript loops of
// ../fused/*_impl.ts. Here the wasm kernels' results are compared with those loops run directly
// on the same inputs, within 1e-6 relative, on CLIP-sized shapes (several threads) and small ones.
import { beforeAll, describe, expect, test } from '@jest/globals';
import * as tf from '@tensorflow/tfjs-core';
import { nativeKernelsStatus } from '@mmft/native-kernels';
import { tfjsBackendConfigSchema } from '../../config';
import { resetBackendSelection, selectBackend } from '../../select';
import { AdamWUpdate, LayerNorm, LayerNormGrad, type AdamWUpdateAttrs } from '@mmft/core/kernels';
import { installKernelOverrides } from '../install';
import { adamwUpdate } from '../fused/adamw_impl';
import { layerNormBackward, layerNormForward } from '../fused/layer_norm_impl';
import { values } from '../fused/test_utils';
import { nativeFused } from './fused_utils';

const status = nativeKernelsStatus();

beforeAll(async () => {
  resetBackendSelection();
  await selectBackend(tfjsBackendConfigSchema.parse({ prefer: ['wasm'] }));
  installKernelOverrides('wasm');
});

/** max |a − b| ≤ tol · max |b| (relative to the largest expected value). */
function expectRelClose(actual: ArrayLike<number>, expected: ArrayLike<number>, tol = 1e-6): void {
  expect(actual.length).toBe(expected.length);
  let scale = 1e-30;
  let worst = 0;
  for (let i = 0; i < expected.length; i++) {
    scale = Math.max(scale, Math.abs(expected[i]!));
    worst = Math.max(worst, Math.abs(actual[i]! - expected[i]!));
  }
  expect(worst / scale).toBeLessThanOrEqual(tol);
}

describe('wasm fused kernels: native and JavaScript paths', () => {
  test('the native path is used exactly when the addon is available', () => {
    for (const name of [LayerNorm, LayerNormGrad, AdamWUpdate] as const) expect(nativeFused(name) !== undefined).toBe(status.available);
    if (!status.available) console.warn(`wasm fused kernels ran their JavaScript path: ${status.reason}`);
  });

  test.each([
    [[32, 65, 128], 1e-5],
    [[32, 32, 128], 1e-5],
    [[3, 5, 33], 1e-12],
    [[1, 1], 1e-5],
  ] as Array<[number[], number]>)('LayerNorm and its gradient %j equal the JavaScript loops', (shape, eps) => {
    const d = shape[shape.length - 1]!;
    const [x, gamma, beta, dy] = [values(shape), tf.add(1, tf.mul(values([d], 3), 0.2)), tf.mul(values([d], 5), 0.1), values(shape, 11)];
    const y = tf.engine().runKernel(LayerNorm, { x: x!, gamma: gamma!, beta: beta! }, { eps }) as tf.Tensor;
    const [dx, dgamma, dbeta] = tf.engine().runKernel(LayerNormGrad, { dy: dy!, x: x!, gamma: gamma! }, { eps }) as tf.Tensor[];
    const [xs, gs, bs, dys] = [x, gamma, beta, dy].map((t) => t!.dataSync() as Float32Array) as [
      Float32Array,
      Float32Array,
      Float32Array,
      Float32Array,
    ];
    const yRef = new Float32Array(xs.length);
    layerNormForward(xs, gs, bs, yRef, d, eps);
    const [dxRef, dgRef, dbRef] = [new Float32Array(xs.length), new Float32Array(d), new Float32Array(d)];
    layerNormBackward(dys, xs, gs, eps, d, dxRef, dgRef, dbRef);
    expectRelClose(y.dataSync(), yRef);
    expectRelClose(dx!.dataSync(), dxRef);
    expectRelClose(dgamma!.dataSync(), dgRef);
    expectRelClose(dbeta!.dataSync(), dbRef);
    tf.dispose([x!, gamma!, beta!, dy!, y, dx!, dgamma!, dbeta!]);
  });

  test.each([
    [[128, 256], { lr: 1e-3, beta1: 0.9, beta2: 0.999, eps: 1e-8, weightDecay: 0.1, step: 3 }],
    [[600, 300], { lr: 5e-4, beta1: 0.9, beta2: 0.98, eps: 1e-6, weightDecay: 0.2, step: 1 }],
    [[7], { lr: 1e-2, beta1: 0.8, beta2: 0.99, eps: 1e-8, weightDecay: 0, step: 100 }],
  ] as Array<[number[], AdamWUpdateAttrs]>)('AdamW %j equals the JavaScript loop', (shape, attrs) => {
    const [param, grad, expAvg] = [values(shape), tf.mul(values(shape, 2), 0.1), tf.mul(values(shape, 3), 0.01)];
    const expAvgSq = tf.mul(tf.abs(values(shape, 4)), 1e-3);
    const outs = tf.engine().runKernel(AdamWUpdate, { param: param!, grad: grad!, expAvg: expAvg!, expAvgSq }, { ...attrs }) as tf.Tensor[];
    const [p, g, m, v] = [param!, grad!, expAvg!, expAvgSq].map((t) => t.dataSync() as Float32Array) as [
      Float32Array,
      Float32Array,
      Float32Array,
      Float32Array,
    ];
    const refs = [new Float32Array(p.length), new Float32Array(p.length), new Float32Array(p.length)] as const;
    adamwUpdate(p, g, m, v, refs[0], refs[1], refs[2], attrs);
    outs.forEach((out, i) => expectRelClose(out.dataSync(), refs[i]!));
    tf.dispose([param!, grad!, expAvg!, expAvgSq, ...outs]);
  });
});
