// recordAttention: the probabilities attendCausal records equal a float64 softmax(q·kᵀ·scale + mask)
// written out here (grouped-query heads, a left-padded row), one per call in call order; recording
// forces the unfused path (a stand-in fused Attention kernel shows which path ran) and changes no
// output; nothing is recorded outside it; nested and failed recordings leave the right recorder.
import '@tensorflow/tfjs-backend-cpu';
import type { MathBackendCPU } from '@tensorflow/tfjs-backend-cpu';
import { afterEach, beforeAll, describe, expect, test } from '@jest/globals';
import * as tf from '@tensorflow/tfjs-core';
import { Attention } from '../kernels';
import { attentionRecorder, recordAttention } from './attention-record';
import { attendCausal, CausalSelfAttention } from './causal-attention';
import { causalLmMask } from './masks';

beforeAll(async () => {
  await tf.setBackend('cpu');
});
afterEach(() => {
  if (tf.getKernel(Attention, 'cpu')) tf.unregisterKernel(Attention, 'cpu');
});

type V = number[];
// B 2, H 4 query heads over Hkv 2 kv heads, T 3, head dim 2; values chosen by formula, not by the code under test.
const [B, H, HKV, T, D] = [2, 4, 2, 3, 2];
const q: V[][][] = Array.from({ length: B }, (_, b) =>
  Array.from({ length: H }, (_, h) =>
    Array.from({ length: T }, (_, t) => Array.from({ length: D }, (_, i) => Math.sin(1 + b + 2 * h + 3 * t + 5 * i))),
  ),
);
const k: V[][][] = Array.from({ length: B }, (_, b) =>
  Array.from({ length: HKV }, (_, h) =>
    Array.from({ length: T }, (_, t) => Array.from({ length: D }, (_, i) => Math.cos(2 + 3 * b + h + 2 * t + i))),
  ),
);
const v: V[][][] = Array.from({ length: B }, (_, b) =>
  Array.from({ length: HKV }, (_, h) => Array.from({ length: T }, (_, t) => Array.from({ length: D }, (_, i) => b + h + t * 0.5 - i))),
);
// Row 1 is left-padded: its first position attends to nothing real.
const padding = [
  [1, 1, 1],
  [0, 1, 1],
];

/** Float64 softmax over keys s ≤ t that the row does not pad; a row with none left is uniform (every score clamped to the same MASK_MIN). */
function reference(scale: number): number[][][][] {
  return q.map((heads, b) =>
    heads.map((rows, h) =>
      rows.map((qt, t) => {
        const kv = k[b]![Math.floor(h / (H / HKV))]!;
        const open = kv.map((_, s) => s <= t && padding[b]![s] === 1);
        if (!open.some(Boolean)) return kv.map(() => 1 / T);
        const scores = kv.map((ks, s) => (open[s] ? qt.reduce((acc, x, i) => acc + x * ks[i]!, 0) * scale : -Infinity));
        const max = Math.max(...scores);
        const e = scores.map((x) => Math.exp(x - max));
        const z = e.reduce((a, c) => a + c, 0);
        return e.map((x) => x / z);
      }),
    ),
  );
}

const maxAbsDiff = (a: number[][][][], b: number[][][][]) => Math.max(...a.flat(3).map((x, i) => Math.abs(x - b.flat(3)[i]!)));

function attend(scale: number): tf.Tensor {
  return tf.tidy(() => {
    const mask = causalLmMask(tf.tensor2d(padding, [B, T], 'int32'), B, T, 0);
    return attendCausal({ query: tf.tensor4d(q.flat(3), [B, H, T, D]), key: tf.tensor(k), value: tf.tensor(v), mask, scale });
  });
}

describe('recordAttention', () => {
  test('records one [B, H, T, S] tensor per call, in call order, equal to a float64 softmax(q·kᵀ·scale + mask)', () => {
    const { result, probabilities } = recordAttention(() => [attend(0.5), attend(2)]);
    expect(probabilities.map((p) => p.shape)).toEqual([
      [B, H, T, T],
      [B, H, T, T],
    ]);
    const [first, second] = probabilities.map((p) => p.arraySync() as number[][][][]);
    expect(maxAbsDiff(first!, reference(0.5))).toBeLessThan(1e-6);
    expect(maxAbsDiff(second!, reference(2))).toBeLessThan(1e-6);
    // The padded query of row 1 spreads uniformly; causal zeros above the diagonal elsewhere.
    for (const p of first![1]![3]![0]!) expect(p).toBeCloseTo(1 / 3, 6);
    expect(first![0]![2]![0]![1]).toBe(0);
    for (const row of first!.flat(2)) expect(row.reduce((a, c) => a + c, 0)).toBeCloseTo(1, 6);
    tf.dispose([...result, ...probabilities]);
  });

  test('the output with recording equals the output without, and the probabilities survive the tidy around the layer', () => {
    const attn = new CausalSelfAttention({ embedDim: 8, numHeads: 4, numKeyValueHeads: 2, bias: false, seed: 3 }).eval();
    const x = tf.tidy(() => tf.sin(tf.reshape(tf.range(0, 2 * 3 * 8), [2, 3, 8])));
    const plain = attn.forward(x);
    const before = tf.memory().numTensors;
    const { result, probabilities } = recordAttention(() => tf.tidy(() => attn.forward(x)));
    expect(tf.memory().numTensors).toBe(before + 2);
    expect(probabilities).toHaveLength(1);
    expect(probabilities[0]!.isDisposed).toBe(false);
    expect(Array.from(result.dataSync())).toEqual(Array.from(plain.dataSync()));
    tf.dispose([plain, result, x, ...probabilities]);
    attn.dispose();
  });

  test('forces the unfused path while recording; outside it the fused kernel runs and nothing is recorded', () => {
    // A stand-in fused Attention that answers 7 everywhere: seeing 7 means the fused path ran.
    tf.registerKernel({
      kernelName: Attention,
      backendName: 'cpu',
      kernelFunc: ({ inputs, backend }) => {
        const shape = inputs.q!.shape;
        return (backend as MathBackendCPU).makeTensorInfo(shape, 'float32', new Float32Array(shape.reduce((a, c) => a * c, 1)).fill(7));
      },
    });
    expect(attentionRecorder()).toBeUndefined();
    const fused = attend(0.5);
    expect(new Set(fused.dataSync())).toEqual(new Set([7]));
    const { result, probabilities } = recordAttention(() => attend(0.5));
    expect(result.dataSync().every((x) => x !== 7)).toBe(true);
    expect(maxAbsDiff(probabilities[0]!.arraySync() as number[][][][], reference(0.5))).toBeLessThan(1e-6);
    tf.dispose([fused, result, ...probabilities]);
  });

  test('a nested recording keeps its own calls; a failing one disposes what it recorded and restores the outer recorder', () => {
    expect(attentionRecorder()).toBeUndefined();
    const outer = recordAttention(() => {
      const a = attend(1);
      const inner = recordAttention(() => attend(2));
      const before = tf.memory().numTensors;
      expect(() =>
        recordAttention(() => {
          tf.dispose(attend(3));
          throw new Error('boom');
        }),
      ).toThrow('boom');
      expect(tf.memory().numTensors).toBe(before);
      const c = attend(4);
      return { a, c, inner };
    });
    expect(attentionRecorder()).toBeUndefined();
    const { a, c, inner } = outer.result;
    expect(inner.probabilities).toHaveLength(1);
    expect(maxAbsDiff(inner.probabilities[0]!.arraySync() as number[][][][], reference(2))).toBeLessThan(1e-6);
    expect(outer.probabilities).toHaveLength(2);
    expect(maxAbsDiff(outer.probabilities[0]!.arraySync() as number[][][][], reference(1))).toBeLessThan(1e-6);
    expect(maxAbsDiff(outer.probabilities[1]!.arraySync() as number[][][][], reference(4))).toBeLessThan(1e-6);
    tf.dispose([a, c, inner.result, ...inner.probabilities, ...outer.probabilities]);
    expect(() =>
      recordAttention(() => {
        throw new Error('again');
      }),
    ).toThrow('again');
    expect(attentionRecorder()).toBeUndefined();
  });
});
