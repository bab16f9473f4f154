// The native-only wasm fused kernels (quick_gelu, softmax, attention's masked softmax) against
// the composite tfjs ops they replace (and the whole attention core, through core's MultiHeadAttention), forward and backward, through @mmft/core's callers: the
// same ops with the kernels installed and uninstalled, on CLIP-sized shapes (several threads) and
// small ones, a causal + padding mask broadcast over heads, and a fully masked row. Without the
// addon they must not be installed at all (and core takes the composite path).
import { afterAll, beforeAll, describe, expect, test } from '@jest/globals';
import * as tf from '@tensorflow/tfjs-core';
import { nativeKernelsStatus } from '@mmft/native-kernels';
import {
  causalMask,
  combineMasks,
  Linear as LinearModule,
  maskedSoftmax,
  MASK_MIN,
  MultiHeadAttention,
  paddingMask,
  quickGelu,
  registerGradients,
} from '@mmft/core/nn';
import { tfjsBackendConfigSchema } from '../../config';
import { resetBackendSelection, selectBackend } from '../../select';
import { Attention, Linear, LinearNoBias, MaskedSoftmax, QuickGelu, Softmax, SumOfSquares } from '@mmft/core/kernels';
import { installKernelOverrides, installedKernelOverrides } from '../install';
import { values } from '../fused/test_utils';

const NATIVE_ONLY = [QuickGelu, Softmax, MaskedSoftmax, Attention, Linear, LinearNoBias, SumOfSquares];
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

function expectRelClose(actual: Float32Array, expected: Float32Array, tol: number, floor = 1e-30): void {
  let [scale, worst] = [floor, 0];
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
    const info = await tf.profile(() => [
      quickGelu(tf.ones([2, 3])),
      maskedSoftmax(tf.ones([1, 2, 3, 3])),
      maskedSoftmax(tf.ones([1, 2, 3, 3]), causalMask(3)),
    ]);
    tf.dispose(info.result as tf.Tensor[]);
    expect(info.kernels.map((k) => k.name)).toEqual(expect.arrayContaining([QuickGelu, Softmax, MaskedSoftmax]));
  });

  test.each([[[8, 65, 512]], [[3, 37]], [[1]]])('quick_gelu %j', (shape) => compare(quickGelu, shape, 4));

  test.each([[[32, 2, 65, 65]], [[2, 3, 5, 13]]])('softmax %j', (shape) => compare((x) => maskedSoftmax(x), shape, 6));

  test('masked softmax: causal + padding mask [B, 1, T, T], a fully masked row, the clamp', () => {
    const [B, H, T] = [4, 2, 9];
    // Batch 3 pads its last 4 keys; row 0 of batch 2 sees nothing (every key blocked).
    const ids = tf.tensor2d(
      Array.from({ length: B * T }, (_, i) => (Math.floor(i / T) === 3 && i % T >= 5 ? 0 : 1)),
      [B, T],
      'int32',
    );
    const blockRow = tf.tensor4d(
      Array.from({ length: B * T * T }, (_, i) => (Math.floor(i / (T * T)) === 2 && Math.floor(i / T) % T === 0 ? MASK_MIN : 0)),
      [B, 1, T, T],
    );
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

maybe('the fused attention core against the composite ops', () => {
  /** Output and the gradients of every weight and of the input, fused kernels on or off. */
  function attend(fused: boolean, attn: MultiHeadAttention, hidden: tf.Tensor, inputs: Parameters<MultiHeadAttention['forward']>[1]) {
    installKernelOverrides('wasm', { fused });
    const before = tf.memory().numTensors;
    const w = values([hidden.shape[0]!, hidden.shape[1]!, attn.embedDim], 5);
    const params = attn.namedParameters();
    const out = tf.tidy(() => {
      const { value, grads } = tf.variableGrads(
        () => tf.sum(tf.mul(attn.forward(hidden, inputs), w)),
        params.map(([, p]) => p),
      );
      const dHidden = tf.grad((h: tf.Tensor) => tf.sum(tf.mul(attn.forward(h, inputs), w)))(hidden);
      return [value, dHidden, ...params.map(([, p]) => grads[p.name]!)];
    });
    const data = out.map((t) => t.dataSync() as Float32Array);
    tf.dispose([...out, w]);
    expect(tf.memory().numTensors).toBe(before);
    return data;
  }

  function compareAttention(attn: MultiHeadAttention, hidden: tf.Tensor, inputs: Parameters<MultiHeadAttention['forward']>[1] = {}): void {
    const composite = attend(false, attn, hidden, inputs);
    const fused = attend(true, attn, hidden, inputs);
    // Relative to max(1, largest value): k_proj.bias's gradient is 0 in exact arithmetic (softmax
    // ignores a constant per row), so both sides hold only rounding noise there.
    fused.forEach((values, i) => expectRelClose(values, composite[i]!, 2e-5, 1));
  }

  test('the fused kernel runs the core (no head transposes, no softmax kernels)', async () => {
    installKernelOverrides('wasm');
    const attn = new MultiHeadAttention({ embedDim: 16, numHeads: 2, seed: 1 });
    const info = await tf.profile(() => attn.forward(values([2, 5, 16])));
    tf.dispose(info.result as tf.Tensor);
    const names = info.kernels.map((k) => k.name);
    expect(names).toContain(Attention);
    expect(names).not.toContain('Transpose');
    expect(names).not.toContain(Softmax);
    attn.dispose();
  });

  test('vision-like: no mask, 65 tokens, 4 heads of 32 (several threads)', () => {
    const attn = new MultiHeadAttention({ embedDim: 128, numHeads: 4, seed: 2 });
    compareAttention(attn, tf.mul(values([8, 65, 128], 3), 0.5));
    attn.dispose();
  });

  test('text-like: causal + padding mask', () => {
    const [B, T] = [3, 7];
    const attn = new MultiHeadAttention({ embedDim: 24, numHeads: 3, seed: 3 });
    const ids = tf.tensor2d(
      Array.from({ length: B * T }, (_, i) => (Math.floor(i / T) === 2 && i % T >= 4 ? 0 : 1)),
      [B, T],
      'int32',
    );
    const mask = combineMasks(causalMask(T), paddingMask(ids));
    compareAttention(attn, values([B, T, 24], 4), { attentionMask: mask });
    tf.dispose([ids, mask]);
    attn.dispose();
  });

  test('cross-attention with prefix keys and values (prefix tuning)', () => {
    const attn = new MultiHeadAttention({ embedDim: 16, numHeads: 2, kvDim: 12, seed: 4 });
    const past = { key: values([1, 2, 3, 8], 6), value: values([1, 2, 3, 8], 7) };
    compareAttention(attn, values([2, 4, 16], 8), {
      keyValueStates: values([2, 5, 12], 9),
      pastKeyValues: past,
      attentionMask: tf.zeros([2, 1, 1, 5]),
    });
    tf.dispose([past.key, past.value]);
    attn.dispose();
  });
});

maybe('the fused Linear against the composite ops', () => {
  /** Output and gradients of x and of the layer's parameters (or only x when frozen), fused on or off. */
  function run(fused: boolean, layer: LinearModule, x: tf.Tensor, frozen = false): Float32Array[] {
    installKernelOverrides('wasm', { fused });
    const before = tf.memory().numTensors;
    const params = frozen ? [] : layer.namedParameters().map(([, p]) => p);
    const out = tf.tidy(() => {
      const w = values([...x.shape.slice(0, -1), layer.outFeatures], 13);
      const f = (input: tf.Tensor) => tf.sum(tf.mul(layer.forward(input), w));
      const dx = tf.grad(f)(x);
      const grads = params.length ? Object.values(tf.variableGrads(() => f(x) as tf.Scalar, params).grads) : [];
      return [layer.forward(x), dx, ...grads];
    });
    const data = out.map((t) => t.dataSync() as Float32Array);
    tf.dispose(out);
    expect(tf.memory().numTensors).toBe(before);
    return data;
  }

  test.each([
    ['bias, [32, 65, 128] → 256', [32, 65, 128], 256, true, false],
    ['no bias (LoRA A), [2, 7, 12] → 3', [2, 7, 12], 3, false, false],
    ['rank 1 input', [5], 4, true, false],
    ['frozen weights: only dx', [3, 4, 6], 5, true, true],
  ] as Array<[string, number[], number, boolean, boolean]>)('%s', async (_, shape, out, bias, frozen) => {
    const layer = new LinearModule(shape[shape.length - 1]!, out, { bias, seed: 7 });
    if (frozen) for (const [, p] of layer.namedParameters()) p.trainable = false;
    const x = values(shape, 2);
    installKernelOverrides('wasm');
    const info = await tf.profile(() => layer.forward(x));
    tf.dispose(info.result as tf.Tensor);
    expect(info.kernels.map((k) => k.name)).toEqual([bias ? Linear : LinearNoBias]);
    const composite = run(false, layer, x, frozen);
    const fused = run(true, layer, x, frozen);
    expect(fused.length).toBe(composite.length);
    fused.forEach((v, i) => expectRelClose(v, composite[i]!, 2e-6, 1));
    tf.dispose(x);
    layer.dispose();
  });
});

maybe('the fused sum of squares', () => {
  test('agrees with the exact sum and the composite Square, Sum and AddN, over many tensors and empty ones, without leaks', () => {
    installKernelOverrides('wasm');
    const grads = [values([128, 128], 1), values([128], 2), values([0, 4], 3), values([256, 128], 4), values([7], 5)];
    const before = tf.memory().numTensors;
    const fused = tf.tidy(() => (tf.engine().runKernel(SumOfSquares, grads as unknown as tf.NamedTensorMap) as tf.Tensor).dataSync()[0]!);
    const composite = tf.tidy(() => tf.addN(grads.map((g) => tf.sum(tf.square(g)))).dataSync()[0]!);
    expect(tf.memory().numTensors).toBe(before);
    // Against the exact sum (float64 over the same float32 values): the fused kernel sums in
    // float64 and rounds once; the composite's float32 sums are looser.
    const exact = grads.reduce((s, g) => s + Array.from(g.dataSync()).reduce((t, v) => t + v * v, 0), 0);
    expect(Math.abs(fused - exact)).toBeLessThanOrEqual(1e-7 * exact);
    expect(Math.abs(composite - exact)).toBeLessThanOrEqual(1e-5 * exact);
    expect(tf.tidy(() => (tf.engine().runKernel(SumOfSquares, [] as unknown as tf.NamedTensorMap) as tf.Tensor).dataSync()[0])).toBe(0);
    tf.dispose(grads);
  });
});
