// LoRA on a base held in 4 bits (QLoRA): PEFT's lora/bnb.py Linear4bit semantics (the base's
// output plus scaling · B(A(dropout(x)))) over core's 4-bit Linear, checked against the same LoRA
// on a float32 base holding the dequantised weight: equal outputs and equal gradients for x, A and
// B, on one layer and across a whole model; and the merge into a 4-bit base (dequantise, add
// scaling · B A, stay float32, warn). On tfjs's cpu backend with core's composite decode;
// backend-tfjs checks its MmftMatMul4bit kernels against that composite.
import '@tensorflow/tfjs-backend-cpu';
import * as tf from '@tensorflow/tfjs-core';
import { beforeAll, describe, expect, jest, test } from '@jest/globals';
import { Linear, linears4bit, quantizeLinears4bit, registerGradients } from '@mmft/core/nn';
import { dequantize4bit, quantize4bit } from '@mmft/core/quant';
import { loraMethod } from './plugin';
import { LoraLinear } from './layer';
import { toySubject } from './test-subjects.test-helper';

beforeAll(async () => {
  await tf.setBackend('cpu');
  registerGradients();
});

const parse = (c: unknown) => loraMethod.configSchema.parse(c);
const weightValues = (size: number, seed: number) =>
  Float32Array.from({ length: size }, (_, i) => Math.sin(i * 0.71 + seed) * (0.2 + (i % 7) * 0.1));

/** max |a − b| ≤ tol · max(1, max |b|). */
function expectClose(actual: ArrayLike<number>, expected: ArrayLike<number>, tol = 1e-5): void {
  expect(actual.length).toBe(expected.length);
  let [scale, worst] = [1, 0];
  for (let i = 0; i < expected.length; i++) scale = Math.max(scale, Math.abs(expected[i]!));
  for (let i = 0; i < expected.length; i++) worst = Math.max(worst, Math.abs(actual[i]! - expected[i]!));
  expect(worst).toBeLessThanOrEqual(tol * scale);
}

/** Two LoRA layers with identical adapters: one over a 4-bit base, one over the dequantised float32 weight. */
function twins(inF: number, outF: number, dropout: number) {
  const values = weightValues(inF * outF, 1);
  const q = quantize4bit(values, 'nf4', { blockSize: 64, doubleQuant: true, shape: [outF, inF] });
  const make = (fourBit: boolean) => {
    const base = new Linear(inF, outF, { seed: 4 });
    base.weight.assign(tf.tensor2d(fourBit ? values : dequantize4bit(q), [outF, inF]));
    base.weight.trainable = false;
    base.bias!.trainable = false;
    if (fourBit) base.storeWeight4bit(q);
    const layer = new LoraLinear(base);
    // init false: B random too, so A gets a gradient (with PEFT's zero B it would have none).
    layer.addAdapter('default', { r: 4, scaling: 16 / 4, dropout, init: false, seed: 7 });
    return layer;
  };
  return { quantized: make(true), reference: make(false), q };
}

function gradients(layer: LoraLinear, x: tf.Tensor, dy: tf.Tensor) {
  const a = layer.child('lora_A').child('default').param('weight');
  const b = layer.child('lora_B').child('default').param('weight');
  return tf.tidy(() => {
    const loss = (xx: tf.Tensor) => tf.sum(tf.mul(layer.forward(xx), dy));
    const dx = tf.grad(loss)(x);
    const { grads } = tf.variableGrads(() => loss(x) as tf.Scalar, [a, b]);
    return { y: layer.forward(x).dataSync(), dx: dx.dataSync(), dA: grads[a.name]!.dataSync(), dB: grads[b.name]!.dataSync() };
  });
}

describe('LoRA on a 4-bit base', () => {
  test.each([
    [96, 40, 0],
    [70, 33, 0.25],
  ])('in %i out %i (dropout %p): output, x, A and B gradients equal LoRA on the dequantised float32 weight', (inF, outF, dropout) => {
    const { quantized, reference } = twins(inF, outF, dropout);
    quantized.train(dropout > 0);
    reference.train(dropout > 0);
    const x = tf.tensor3d(weightValues(2 * 3 * inF, 2), [2, 3, inF]);
    const dy = tf.tensor3d(weightValues(2 * 3 * outF, 3), [2, 3, outF]);
    // Same seeds, same call sequence: the two dropouts draw the same masks.
    const got = gradients(quantized, x, dy);
    const want = gradients(reference, x, dy);
    expectClose(got.y, want.y);
    expectClose(got.dx, want.dx);
    expectClose(got.dA, want.dA);
    expectClose(got.dB, want.dB);
    expect(Math.max(...Array.from(got.dA, Math.abs))).toBeGreaterThan(0);
    if (dropout > 0) {
      // Dropout really ran: in eval mode the output differs.
      quantized.train(false);
      const evalY = tf.tidy(() => quantized.forward(x).dataSync());
      expect(Math.max(...Array.from(evalY, (v, i) => Math.abs(v - got.y[i]!)))).toBeGreaterThan(1e-3);
    }
    // The base keeps no float32 weight and gets no gradient: only A and B are trainable.
    expect([...quantized.stateDict()].filter(([, v]) => v.trainable).map(([n]) => n)).toEqual([
      'lora_A.default.weight',
      'lora_B.default.weight',
    ]);
    expect([...quantized.stateDict().keys()]).not.toContain('base_layer.weight');
    tf.dispose([x, dy]);
    quantized.dispose();
    reference.dispose();
  });

  test('across a model: apply LoRA, quantise the frozen Linears; every trainable gradient equals the dequantised twin', () => {
    const config = parse({ r: 4, lora_alpha: 8, target_modules: 'all-linear', init_lora_weights: 'gaussian', seed: 1 });
    const quantized = toySubject(5);
    const reference = toySubject(5);
    loraMethod.apply(quantized.root, config, 'default');
    loraMethod.apply(reference.root, config, 'default');
    // gaussian A with zero B: give B values so every gradient is non-zero.
    for (const s of [quantized, reference])
      for (const [name, v] of s.root.stateDict()) if (name.includes('lora_B')) v.assign(tf.mul(tf.onesLike(v), 0.05));
    const { quantized: count } = quantizeLinears4bit(quantized.root, { skipModules: [] });
    expect(count).toBeGreaterThan(0);
    for (const name of linears4bit(quantized.root).keys()) {
      const path = name.slice(0, -'.weight'.length);
      const q = quantized.root.getModule<Linear>(path).quantizedWeight!;
      reference.root.getModule<Linear>(path).weight.assign(tf.tensor2d(dequantize4bit(q), [q.shape[0]!, q.shape[1]!]));
    }
    const grads = (s: typeof quantized) => {
      const vars = [...s.root.stateDict()].filter(([, v]) => v.trainable);
      const { value, grads: g } = tf.variableGrads(
        () => tf.sum(tf.square(s.forward())) as tf.Scalar,
        vars.map(([, v]) => v),
      );
      const out = { loss: value.dataSync()[0]!, byName: new Map(vars.map(([n, v]) => [n, g[v.name]!.dataSync()])) };
      tf.dispose([value, ...Object.values(g)]);
      return out;
    };
    const got = grads(quantized);
    const want = grads(reference);
    expect(got.loss).toBeCloseTo(want.loss, 4);
    expect([...got.byName.keys()]).toEqual([...want.byName.keys()]);
    for (const [name, g] of got.byName) expectClose(g, want.byName.get(name)!, 1e-4);
    quantized.dispose();
    reference.dispose();
  });
});

describe('merging into a 4-bit base', () => {
  test('writes dequantised W + scaling · B A in float32, keeps the outputs, warns once; unmerge subtracts it again', () => {
    const warn = jest.spyOn(process, 'emitWarning').mockImplementation(() => undefined);
    const { quantized: layer, reference, q } = twins(64, 12, 0);
    const x = tf.tensor2d(weightValues(5 * 64, 8), [5, 64]);
    const before = layer.forward(x).dataSync();
    layer.merge('default');
    const base = layer.baseLayer as Linear;
    expect(base.packedWeight4bit).toBeUndefined();
    const a = layer.child('lora_A').child('default').param('weight').arraySync() as number[][];
    const b = layer.child('lora_B').child('default').param('weight').arraySync() as number[][];
    const w = dequantize4bit(q);
    const merged = base.weight.dataSync();
    for (let o = 0; o < 12; o++)
      for (let i = 0; i < 64; i++) {
        const delta = b[o]!.reduce((s, bv, k) => s + bv * a[k]![i]!, 0) * 4;
        expect(merged[o * 64 + i]).toBeCloseTo(w[o * 64 + i]! + delta, 5);
      }
    expectClose(layer.forward(x).dataSync(), before);
    expect(warn).toHaveBeenCalledTimes(1);
    expect(String(warn.mock.calls[0]![0])).toMatch(/merging into a base Linear held in 4 bits \(nf4\).*float32.*not re-quantised/);
    layer.unmerge('default');
    expectClose(base.weight.dataSync(), w);
    // A second 4-bit merge in this process does not warn again.
    const { quantized: other } = twins(64, 4, 0);
    other.merge('default');
    expect(warn).toHaveBeenCalledTimes(1);
    warn.mockRestore();
    tf.dispose(x);
    [layer, reference, other].forEach((l) => l.dispose());
  });
});
