// Frozen Linear weights held in 16 bits, on tfjs's cpu backend without mmft's kernels (the
// float32-copy path); backend-tfjs tests the MmftMatMulPacked16 kernels against the same numbers.
import '@tensorflow/tfjs-backend-cpu';
import * as tf from '@tensorflow/tfjs-core';
import { beforeAll, describe, expect, it } from '@jest/globals';
import { TiedLinear } from '../lm/tied-linear';
import { CheckpointTestStack } from '../testing/nn-suite/checkpoint';
import { setGradientCheckpointing } from './checkpoint';
import { Embedding } from './embedding';
import { frozenWeights16, restoreFrozenWeights32, storeFrozenWeights16 } from './frozen16';
import { Linear } from './linear';
import { registerGradients } from './gradients';
import { Module } from './module';
import { bf16BitsToFloat, fp16BitsToFloat, roundToBf16Bits, roundToFp16Bits } from './packed16';

beforeAll(async () => {
  await tf.setBackend('cpu');
  registerGradients();
});

// W [2, 3] with values bf16 and fp16 must round: 0.1 = 0x3DCCCCCD in float32.
const W = [
  [0.1, -0.7, 1.3],
  [2.2, 0.05, -1.9],
];
const B = [0.5, -0.25];
const X = [
  [1, 2, 3],
  [-1, 0.5, 4],
];

function frozenLinear(): Linear {
  const fc = new Linear(3, 2);
  tf.tidy(() => {
    fc.weight.assign(tf.tensor2d(W));
    fc.bias!.assign(tf.tensor1d(B));
  });
  fc.weight.trainable = false;
  return fc;
}

// y = x·Wᵀ + b by hand with the weight rounded as given, in float64 then float32.
function expected(round: (x: number) => number): number[][] {
  return X.map((row) => W.map((w, o) => Math.fround(row.reduce((s, xi, i) => s + xi * round(w[i]!), 0) + B[o]!)));
}
const bf16 = (x: number) => bf16BitsToFloat(roundToBf16Bits(x));
const fp16 = (x: number) => fp16BitsToFloat(roundToFp16Bits(x));

describe('Linear.storeWeight16', () => {
  it.each([
    ['bf16', bf16],
    ['fp16', fp16],
  ] as const)('computes with the weight rounded to %s', (format, round) => {
    const fc = frozenLinear();
    expect(fc.storeWeight16(format)).toBe(12); // 6 values: 24 bytes → 12
    const y = fc.forward(tf.tensor2d(X)).arraySync() as number[][];
    const want = expected(round);
    for (let r = 0; r < 2; r++) for (let c = 0; c < 2; c++) expect(y[r]![c]).toBeCloseTo(want[r]![c]!, 5);
    // Rounding changed something: the test would not see a missing rounding otherwise.
    expect(Math.abs(y[0]![0]! - expected((v) => v)[0]![0]!)).toBeGreaterThan(1e-6);
    fc.dispose();
  });

  it('gives x and the bias the gradients of the rounded weight', () => {
    const fc = frozenLinear();
    fc.storeWeight16('bf16');
    const x = tf.tensor2d(X);
    const dy = tf.tensor2d([
      [1, -2],
      [0.5, 3],
    ]);
    const dx = tf
      .grad((xx: tf.Tensor) => tf.sum(tf.mul(fc.forward(xx), dy)))(x)
      .arraySync() as number[][];
    // dx = dy·W(rounded)
    const dyA = dy.arraySync() as number[][];
    for (let r = 0; r < 2; r++)
      for (let i = 0; i < 3; i++) expect(dx[r]![i]).toBeCloseTo(dyA[r]![0]! * bf16(W[0]![i]!) + dyA[r]![1]! * bf16(W[1]![i]!), 5);
    const { grads } = tf.variableGrads(() => tf.sum(tf.mul(fc.forward(x), dy)) as tf.Scalar, [fc.bias!]);
    expect(grads[fc.bias!.name]!.arraySync()).toEqual([1.5, 1]);
    fc.dispose();
  });

  it('takes the weight out of the state dict and puts it back, rounded, in its place', () => {
    const fc = frozenLinear();
    const name = fc.weight.name;
    fc.storeWeight16('fp16');
    expect([...fc.stateDict().keys()]).toEqual(['bias']);
    expect(fc.parameterCount()).toBe(2);
    expect(() => fc.weight).toThrow(/holds its frozen weight in fp16/);
    fc.restoreWeight32();
    expect([...fc.stateDict().keys()]).toEqual(['weight', 'bias']);
    expect(fc.weight.name).toBe(name);
    expect(fc.weight.trainable).toBe(false);
    expect(fc.weight.arraySync()).toEqual(W.map((row) => row.map(fp16)));
    fc.dispose();
  });

  it('keeps given 16-bit patterns as they are', () => {
    const fc = frozenLinear();
    fc.storeWeight16('bf16', Uint16Array.of(0x3f80, 0xc020, 0, 0x4000, 0x3f00, 0xbf80)); // 1 −2.5 0 / 2 0.5 −1
    fc.restoreWeight32();
    expect(fc.weight.arraySync()).toEqual([
      [1, -2.5, 0],
      [2, 0.5, -1],
    ]);
    expect(() => fc.storeWeight16('bf16', new Uint16Array(5))).toThrow(/has 6 values; 5 16-bit patterns/);
    fc.dispose();
  });

  it('refuses a trainable weight and a second format', () => {
    const fc = new Linear(3, 2);
    expect(() => fc.storeWeight16('bf16')).toThrow(/is trainable; only frozen weights/);
    fc.weight.trainable = false;
    fc.storeWeight16('bf16');
    expect(fc.storeWeight16('bf16')).toBe(0);
    expect(() => fc.storeWeight16('fp16')).toThrow(/already holds its weight in bf16/);
    fc.dispose();
  });

  it('frees what it holds on dispose', () => {
    const before = tf.memory().numTensors;
    const fc = frozenLinear();
    fc.storeWeight16('bf16');
    tf.tidy(() => {
      fc.forward(tf.tensor2d(X));
    });
    fc.dispose();
    expect(tf.memory().numTensors).toBe(before);
  });
});

class Tower extends Module<[tf.Tensor], tf.Tensor> {
  constructor() {
    super();
    const embed = this.registerModule('embed', new Embedding(5, 3));
    this.registerModule('frozen', new Linear(3, 3, { bias: false }));
    this.registerModule('odd', new Linear(3, 1)); // 3 values: two int32 elements, 4 bytes freed
    this.registerModule('trained', new Linear(3, 3));
    this.registerModule('head', new TiedLinear(embed.weight));
  }
  forward(x: tf.Tensor): tf.Tensor {
    const h = this.child<Linear>('trained').forward(this.child<Linear>('frozen').forward(x));
    return tf.add(this.child<Linear>('head').forward(h), this.child<Linear>('odd').forward(h));
  }
}

describe('storeFrozenWeights16', () => {
  it('packs frozen Linear weights only, not trainable or tied ones', () => {
    const tower = new Tower();
    tower.freeze();
    tower.unfreeze('trained.*');
    const x = tf.tensor2d([[0.3, -1, 2]]);
    const result = storeFrozenWeights16(tower, 'bf16');
    expect(result).toEqual({ packed: 2, bytesSaved: 9 * 4 - 5 * 4 + (3 * 4 - 2 * 4) });
    expect([...frozenWeights16(tower)].map(([name, w]) => [name, w.format, w.shape])).toEqual([
      ['frozen.weight', 'bf16', [3, 3]],
      ['odd.weight', 'bf16', [1, 3]],
    ]);
    expect(storeFrozenWeights16(tower, 'bf16')).toEqual({ packed: 0, bytesSaved: 0 });
    // The trainable layer still trains.
    const { grads } = tf.variableGrads(() => tf.sum(tower.forward(x)) as tf.Scalar, tower.trainableParameters());
    expect(Object.keys(grads).length).toBe(2);
    expect(restoreFrozenWeights32(tower)).toBe(2);
    expect([...tower.stateDict().keys()]).toEqual([
      'embed.weight',
      'frozen.weight',
      'odd.weight',
      'odd.bias',
      'trained.weight',
      'trained.bias',
      'head.weight',
    ]);
    tower.dispose();
  });
});

describe('16-bit weights under gradient checkpointing', () => {
  it('gradients of the trainable parameters equal the plain backward bit for bit', () => {
    const grads = (checkpointing: boolean): Record<string, number[]> => {
      const model = new CheckpointTestStack(8, 3);
      model.freeze('**.weight');
      expect(storeFrozenWeights16(model, 'bf16').packed).toBeGreaterThan(0);
      expect(setGradientCheckpointing(model, checkpointing)).toBe(1);
      model.train();
      const names = new Map(model.namedParameters().map(([name, v]) => [v.name, name]));
      const x = tf.randomNormal([2, 5, 8], 0, 1, 'float32', 3);
      const { value, grads: g } = tf.variableGrads(() => tf.sum(tf.square(model.forward(x))) as tf.Scalar, model.trainableParameters());
      const out: Record<string, number[]> = { loss: Array.from(value.dataSync()) };
      for (const [name, t] of Object.entries(g)) out[names.get(name)!] = Array.from(t.dataSync());
      tf.dispose([x, value, ...Object.values(g)]);
      model.dispose();
      return out;
    };
    const plain = grads(false);
    expect(Object.keys(plain).length).toBeGreaterThan(5);
    expect(grads(true)).toEqual(plain);
  });
});
