// Frozen Linear weights held in 4 bits (bitsandbytes' NF4/FP4 blockwise format), on tfjs's cpu
// backend without mmft's kernels: the composite of tfjs ops decodes the weight. backend-tfjs tests
// the MmftMatMul4bit kernels against the same composite (src/kernels/MatMul4bit.test.ts).
import '@tensorflow/tfjs-backend-cpu';
import * as tf from '@tensorflow/tfjs-core';
import { beforeAll, describe, expect, it } from '@jest/globals';
import { TiedLinear } from '../lm/tied-linear';
import { dequantize4bit, NF4_CODE, quantize4bit, type Quantized4bit } from '../quant';
import { Embedding } from './embedding';
import { storeFrozenWeights16 } from './frozen16';
import { registerGradients } from './gradients';
import { Linear } from './linear';
import { Module } from './module';
import { linears4bit, quantizedWeights4bit, quantizeLinears4bit, skipsModule } from './quant4';
import { dequantize4bitOps } from './unpack4bit';

beforeAll(async () => {
  await tf.setBackend('cpu');
  registerGradients();
});

const NF4 = Array.from(NF4_CODE);
const f32 = Math.fround;

// W [2, 3] by hand: bytes 0xF0 0x78 0x3C are codes 15 0 | 7 8 | 3 12, one block with absmax 2.
const HAND: Quantized4bit = {
  quantType: 'nf4',
  blockSize: 32,
  length: 6,
  shape: [2, 3],
  dtype: 'float32',
  packed: Uint8Array.of(0xf0, 0x78, 0x3c),
  absmax: Float32Array.of(2),
  code: NF4_CODE,
};
const W_HAND = [
  [2, -2, 0],
  [f32(NF4[8]! * 2), f32(NF4[3]! * 2), f32(NF4[12]! * 2)],
];

function frozenLinear(out: number, inF: number, seed = 1, bias = true): Linear {
  const fc = new Linear(inF, out, { seed, bias });
  fc.weight.trainable = false;
  return fc;
}

const values = (size: number, seed: number) =>
  Float32Array.from({ length: size }, (_, i) => Math.sin((i + 1) * 0.73 + seed) * (1 + (i % 5)));

describe('Linear.storeWeight4bit', () => {
  it('computes x·Wᵀ + b with the decoded weight, and gives x the gradient dy·W', () => {
    const fc = frozenLinear(2, 3);
    fc.bias!.assign(tf.tensor1d([0.5, -0.25]));
    expect(fc.storeWeight4bit(HAND)).toBe(6 * 4 - (1 + 1 + 16) * 4);
    const X = [
      [1, 2, 3],
      [-1, 0.5, 4],
    ];
    const DY = [
      [1, -2],
      [0.5, 3],
    ];
    const y = fc.forward(tf.tensor2d(X));
    const expected = X.map((row) => W_HAND.map((w, j) => row.reduce((s, v, c) => s + v * w[c]!, 0) + [0.5, -0.25][j]!));
    const got = y.arraySync() as number[][];
    got.flat().forEach((v, i) => expect(v).toBeCloseTo(expected.flat()[i]!, 5));
    const dx = tf.grad((x: tf.Tensor) => tf.sum(tf.mul(fc.forward(x), tf.tensor2d(DY))))(tf.tensor2d(X));
    const dxExpected = DY.map((d) => [0, 1, 2].map((c) => d[0]! * W_HAND[0]![c]! + d[1]! * W_HAND[1]![c]!));
    (dx.arraySync() as number[][]).flat().forEach((v, i) => expect(v).toBeCloseTo(dxExpected.flat()[i]!, 5));
    fc.dispose();
  });

  it('takes the weight out of the state dict; restoreWeight32 puts the dequantised values back in its place', () => {
    const fc = frozenLinear(2, 3);
    const names = () => [...fc.stateDict().keys()];
    fc.storeWeight4bit(HAND);
    expect(names()).toEqual(['bias']);
    expect(() => fc.weight).toThrow(/holds its frozen weight in 4 bits \(nf4\)/);
    expect(fc.packedWeight4bit).toMatchObject({ quantType: 'nf4', blockSize: 32, doubleQuant: false, shape: [2, 3] });
    fc.restoreWeight32();
    expect(names()).toEqual(['weight', 'bias']);
    expect(fc.weight.arraySync()).toEqual(W_HAND);
    expect(fc.weight.trainable).toBe(false);
    expect(fc.packedWeight4bit).toBeUndefined();
    fc.dispose();
  });

  it('gives back the bytes it was given (quantizedWeight), double-quantised and odd-sized too', () => {
    const fc = frozenLinear(7, 9, 3);
    const q = quantize4bit(values(63, 2), 'nf4', { blockSize: 32, doubleQuant: true, shape: [7, 9], dtype: 'bfloat16' });
    fc.storeWeight4bit(q);
    const back = fc.quantizedWeight!;
    expect(back).toEqual({ ...q, shape: [7, 9] });
    expect(Array.from(back.packed)).toEqual(Array.from(q.packed));
    expect(back.absmax).toBeInstanceOf(Uint8Array);
    expect([...quantizedWeights4bit(fc)].map(([name]) => name)).toEqual(['weight']);
    fc.restoreWeight32();
    expect(Array.from(fc.weight.dataSync())).toEqual(Array.from(dequantize4bit(q)));
    fc.dispose();
  });

  it('refuses a trainable weight, a wrong shape, and a weight already packed', () => {
    const trainable = new Linear(3, 2);
    expect(() => trainable.storeWeight4bit(HAND)).toThrow(/trainable; only frozen weights can be held in 4 bits/);
    const wide = frozenLinear(3, 2);
    expect(() => wide.storeWeight4bit(HAND)).toThrow(/is \[3, 2\]; the 4-bit weight given has shape \[2, 3\]/);
    const fc = frozenLinear(2, 3);
    fc.storeWeight16('bf16');
    expect(() => fc.storeWeight4bit(HAND)).toThrow(/already holds its weight in bf16/);
    fc.restoreWeight32();
    fc.storeWeight4bit(HAND);
    expect(() => fc.storeWeight16('bf16')).toThrow(/already holds its weight in 4 bits/);
    expect(() => fc.storeWeight4bit(HAND)).toThrow(/already holds its weight in 4 bits/);
    [trainable, wide, fc].forEach((m) => m.dispose());
  });

  it('keeps no float32 copy of the weight between the forward pass and the gradient (composite path)', () => {
    const fc = frozenLinear(128, 128, 2, false);
    fc.storeWeight4bit(quantize4bit(values(128 * 128, 1), 'nf4', { shape: [128, 128] }));
    let held = -1;
    const dx = tf.grad((x: tf.Tensor) => {
      const before = tf.memory().numBytes;
      const y = fc.forward(x);
      held = tf.memory().numBytes - before; // y and what the tape keeps for the backward pass
      return tf.sum(y);
    })(tf.ones([1, 128]));
    expect(held).toBeGreaterThan(0);
    expect(held).toBeLessThan(128 * 128 * 4); // a float32 W would be 64 KiB
    const w = dequantize4bit(fc.quantizedWeight!);
    const expected = Array.from({ length: 128 }, (_, c) =>
      Array.from({ length: 128 }, (_, r) => w[r * 128 + c]!).reduce((a, b) => a + b, 0),
    );
    Array.from(dx.dataSync()).forEach((v, c) => expect(v).toBeCloseTo(expected[c]!, 4));
    fc.dispose();
  });

  it('frees its tensors on dispose', () => {
    const before = tf.memory().numTensors;
    const fc = frozenLinear(2, 3);
    fc.storeWeight4bit(HAND);
    fc.dispose();
    expect(tf.memory().numTensors).toBe(before);
  });
});

describe('dequantize4bitOps (the composite of tfjs ops)', () => {
  it.each([
    [7, 9, 'nf4', 32, false],
    [5, 70, 'nf4', 32, true],
    [33, 64, 'fp4', 64, false],
    [3, 1, 'nf4', 4096, true],
  ] as const)(
    'W [%i, %i] %s in blocks of %i (double quant %s) equals dequantize4bit bit for bit',
    (rows, cols, quantType, blockSize, doubleQuant) => {
      const fc = frozenLinear(rows, cols, 5);
      const q = quantize4bit(values(rows * cols, rows), quantType, { blockSize, doubleQuant, shape: [rows, cols] });
      fc.storeWeight4bit(q);
      const p = fc.packedWeight4bit!;
      const words = p.packed.dataSync() as Int32Array;
      // Words with the top bit set (a code ≥ 8 in the fourth byte's high nibble) go through a negative floorDiv.
      if (rows * cols > 8) expect(words.some((w) => w < 0)).toBe(true);
      const w = dequantize4bitOps(p.packed, p.absmax, p.code, rows, cols, blockSize);
      expect(w.shape).toEqual([rows, cols]);
      expect(Array.from(w.dataSync())).toEqual(Array.from(dequantize4bit(q)));
      w.dispose();
      fc.dispose();
    },
  );
});

class Inner extends Module<[tf.Tensor], tf.Tensor> {
  forward(x: tf.Tensor): tf.Tensor {
    return x;
  }
}

class Tower extends Module<[tf.Tensor], tf.Tensor> {
  constructor() {
    super();
    const embed = this.registerModule('embed', new Embedding(5, 32));
    const inner = this.registerModule('language_model', new Inner());
    inner.registerModule('q_proj', new Linear(32, 32, { bias: false }));
    inner.registerModule('fc1', new Linear(32, 32));
    inner.registerModule('lm_head', new Linear(32, 5, { bias: false }));
    this.registerModule('trained', new Linear(32, 32));
    this.registerModule('head', new TiedLinear(embed.weight));
  }
  forward(x: tf.Tensor): tf.Tensor {
    return x;
  }
}

describe('quantizeLinears4bit', () => {
  it('quantises frozen Linears only, skipping lm_head at any depth, listed modules and tied weights', () => {
    const tower = new Tower();
    tower.freeze();
    tower.unfreeze('trained.*');
    const result = quantizeLinears4bit(tower, { skipModules: ['lm_head', 'fc1'] });
    expect(result.quantized).toBe(1);
    expect(result.skipped).toEqual(['language_model.fc1', 'language_model.lm_head', 'head']);
    // 32·32 float32 → 128 int32 words of codes, 16 float32 scales (blocks of 64), a 16-entry code.
    expect(result.bytesSaved).toBe(32 * 32 * 4 - (128 + 16 + 16) * 4);
    expect([...linears4bit(tower)].map(([n, w]) => [n, w.quantType, w.blockSize, w.doubleQuant])).toEqual([
      ['language_model.q_proj.weight', 'nf4', 64, true],
    ]);
    // A 4-bit layer is left alone by a second pass and by storeFrozenWeights16.
    expect(quantizeLinears4bit(tower, { skipModules: ['lm_head', 'fc1'] }).quantized).toBe(0);
    expect(storeFrozenWeights16(tower, 'bf16').packed).toBe(2);
    tower.dispose();
  });

  it('matches skip entries on whole dotted components', () => {
    expect(skipsModule('lm_head', 'lm_head')).toBe(true);
    expect(skipsModule('language_model.lm_head', 'lm_head')).toBe(true);
    expect(skipsModule('model.layers.0.mlp.fc1', 'model.layers.0')).toBe(true);
    expect(skipsModule('model.layers.10.mlp.fc1', 'model.layers.1')).toBe(false);
    expect(skipsModule('model.layers.0.mlp.xfc1', 'fc1')).toBe(false);
    expect(skipsModule('vision_tower.blocks.3.mlp', 'blocks.3')).toBe(true);
    expect(skipsModule('anything', '')).toBe(false);
  });
});
