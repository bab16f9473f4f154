// The native-only wasm fused kernels (quick_gelu, softmax, attention's masked softmax) against
// the composite tfjs ops they replace, forward and backward, through @mmft/core's callers: the
// same ops with the kernels installed and uninstalled, on CLIP-sized shapes (several threads) and
// small ones, a causal + padding mask broadcast over heads, and a fully masked row. Without the
// addon they must not be installed at all (and core takes the composite path).
import { afterAll, beforeAll, describe, expect, test } from '@jest/globals';
import * as tf from '@tensorflow/tfjs-core';
import { nativeKernelsStatus } from '@mmft/native-kernels';
import { causalMask, combineMasks, maskedSoftmax, MASK_MIN, paddingMask, quickGelu, registerGradients } from '@mmft/core/nn';
import { tfjsBackendConfigSchema } from '../../config';
import { resetBackendSelection, selectBackend } from '../../select';
import { MaskedSoftmax, QuickGelu, Softmax } from '../kernel_names';
import { installKernelOverrides, installedKernelOverrides } from '../register_overrides';
import { values } from '../fused/test_utils';

const NATIVE_ONLY = [QuickGelu, Softmax, MaskedSoftmax];
const status = nativeKernelsStatus();
const maybe = status.available ? describe : describe.skip;

beforeAll(async () => {
  resetBackendSelection();
  await selectBackend(tfjsBackendConfigSchema.parse({ prefer: ['wasm'] }));
  registerGradients();
});
afterAll(() => {
  installKernelOverrides('wasm');
});

/** Value and gradient of sum(f(x) · w) for a fixed weight w, with the fused kernels on or off, without leaks. */
function run(fused: boolean, f: (x: tf.Tensor) => tf.Tensor, x: tf.Tensor): { y: Float32Array; dx: Float32Array } {
  installKernelOverrides('wasm', { fused });
  const before = tf.memory().numTensors;
  const [y, dx] = tf.tidy(() => {
    const w = values(x.shape, 29);
    return [f(x), tf.grad((input: tf.Tensor) => tf.sum(tf.mul(f(input), w)))(x)];
  });
  const result = { y: y!.dataSync() as Float32Array, dx: dx!.dataSync() as Float32Array };
  tf.dispose([y!, dx!]);
  expect(tf.memory().numTensors).toBe(before);
  return result;
}

function expectRelClose(actual: Float32Array, expected: Float32Array, tol: number): void {
  let [scale, worst] = [1e-30, 0];
  expected.forEach((e, i) => {
    scale = Math.max(scale, Math.abs(e));
    worst = Math.max(worst, Math.abs(actual[i]! - e));
  });
  expect(worst / scale).toBeLessThanOrEqual(tol);
}

function compare(f: (x: tf.Tensor) => tf.Tensor, shape: number[], scale = 1): void {
  const x = tf.mul(values(shape, 3), scale);
  const composite = run(false, f, x);
  const fused = run(true, f, x);
  expectRelClose(fused.y, composite.y, 2e-6);
  expectRelClose(fused.dx, composite.dx, 2e-5);
  x.dispose();
}

describe('native-only wasm kernels', () => {
  test('installed exactly when the addon is available', () => {
    installKernelOverrides('wasm');
    const installed = installedKernelOverrides('wasm');
    for (const name of NATIVE_ONLY) expect(installed.includes(name)).toBe(status.available);
    if (!status.available) console.warn(`native-only kernels not tested: ${status.reason}`);
  });
});

maybe('native-only wasm kernels against the composite ops', () => {
  test('core calls the fused kernels when installed', async () => {
    installKernelOverrides('wasm');
    const info = await tf.profile(() => [quickGelu(tf.ones([2, 3])), maskedSoftmax(tf.ones([1, 2, 3, 3])), maskedSoftmax(tf.ones([1, 2, 3, 3]), causalMask(3))]);
    tf.dispose(info.result as tf.Tensor[]);
    expect(info.kernels.map((k) => k.name)).toEqual(expect.arrayContaining(NATIVE_ONLY));
  });

  test.each([[[32, 65, 512]], [[3, 37]], [[1]]])('quick_gelu %j', (shape) => compare(quickGelu, shape, 4));

  test.each([[[32, 2, 65, 65]], [[2, 3, 5, 13]]])('softmax %j', (shape) => compare((x) => maskedSoftmax(x), shape, 6));

  test('masked softmax: causal + padding mask [B, 1, T, T], a fully masked row, the clamp', () => {
    const [B, H, T] = [4, 2, 9];
    // Batch 3 pads its last 4 keys; row 0 of batch 2 sees nothing (every key blocked).
    const ids = tf.tensor2d(Array.from({ length: B * T }, (_, i) => (Math.floor(i / T) === 3 && i % T >= 5 ? 0 : 1)), [B, T], 'int32');
    const blockRow = tf.tensor4d(Array.from({ length: B * T * T }, (_, i) => (Math.floor(i / (T * T)) === 2 && Math.floor(i / T) % T === 0 ? MASK_MIN : 0)), [B, 1, T, T]);
    const mask = combineMasks(combineMasks(causalMask(T), paddingMask(ids)), blockRow);
    compare((x) => maskedSoftmax(x, mask), [B, H, T, T], 6);
    // Logits so low that logits + mask falls under MASK_MIN on open keys too: the clamp's gradient is 0 there.
    compare((x) => maskedSoftmax(tf.sub(x, 3e38), mask), [B, H, T, T], 1e37);
    tf.dispose([ids, blockRow, mask]);
  });

  test('a mask [1, 1, 1, S] and one per head broadcast like the composite', () => {
    const perKey = tf.tensor4d([0, MASK_MIN, 0, 0, MASK_MIN], [1, 1, 1, 5]);
    compare((x) => maskedSoftmax(x, perKey), [3, 2, 4, 5], 5);
    const perHead = tf.mul(values([1, 2, 4, 5], 8), 3);
    compare((x) => maskedSoftmax(x, perHead), [3, 2, 4, 5], 5);
    tf.dispose([perKey, perHead]);
  });
});
