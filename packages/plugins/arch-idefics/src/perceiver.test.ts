import '@tensorflow/tfjs-backend-cpu';
import { describe, expect, test } from '@jest/globals';
import * as tf from '@tensorflow/tfjs-core';
import { IdeficsPerceiverAttention, IdeficsPerceiverResampler } from './perceiver';

const EPS = 1e-5; // nn.LayerNorm's default, which perceiver.py uses
const IDENTITY = [
  [1, 0],
  [0, 1],
];

function set(module: { stateDict(): Map<string, tf.Variable> }, values: Record<string, number[] | number[][]>): void {
  const sd = module.stateDict();
  for (const [name, value] of Object.entries(values)) {
    const v = sd.get(name);
    if (!v) throw new Error(`no parameter ${name} in ${[...sd.keys()].join(', ')}`);
    v.assign(tf.tensor(value as number[], v.shape));
  }
}

// float64 pieces of perceiver.py, written out for a 2-wide toy
const ln = (x: number[], w: number[] = x.map(() => 1), b: number[] = x.map(() => 0)) => {
  const m = x.reduce((s, v) => s + v, 0) / x.length;
  const varc = x.reduce((s, v) => s + (v - m) ** 2, 0) / x.length;
  return x.map((v, i) => ((v - m) / Math.sqrt(varc + EPS)) * w[i]! + b[i]!);
};
const matvec = (w: number[][], x: number[]) => w.map((row) => row.reduce((s, wi, i) => s + wi * x[i]!, 0));

describe('IDEFICS Perceiver resampler on a 2×2 toy', () => {
  test('attention: one latent over two context tokens with the latent appended to the keys, by hand', () => {
    const attn = new IdeficsPerceiverAttention(2, 1, 2);
    set(attn, { 'q_proj.weight': IDENTITY, 'k_proj.weight': IDENTITY, 'v_proj.weight': IDENTITY, 'output_proj.weight': IDENTITY });
    const context = tf.tensor3d([
      [
        [0, 2],
        [5, 1],
      ],
    ]);
    const latents = tf.tensor3d([[[3, 1]]]);
    const out = attn.forward(context, latents);
    // LayerNorm of [a, b] is ±(a−b)/2 / √(((a−b)/2)² + eps): latent [3, 1] → [c, −c], tokens → [−c, c] and [c2, −c2].
    const c = 1 / Math.sqrt(1 + EPS);
    const c2 = 2 / Math.sqrt(4 + EPS);
    const keys = [
      [-c, c],
      [c2, -c2],
      [c, -c], // the latent itself (k/v over cat(context, latents))
    ];
    // q = [c, −c]; scores q·k/√2 = −√2c², √2·c·c2, √2c².
    const scores = [-Math.SQRT2 * c * c, Math.SQRT2 * c * c2, Math.SQRT2 * c * c];
    const z = scores.reduce((s, v) => s + Math.exp(v), 0);
    const p = scores.map((v) => Math.exp(v) / z);
    const expected = [0, 1].map((d) => keys.reduce((s, k, i) => s + p[i]! * k[d]!, 0));
    const got = Array.from(out.dataSync());
    got.forEach((v, i) => expect(v).toBeCloseTo(expected[i]!, 5));
    // Without the latent among the keys the answer differs: the test sees that rule.
    const noLatent = [0, 1].map(
      (d) => (Math.exp(scores[0]!) * keys[0]![d]! + Math.exp(scores[1]!) * keys[1]![d]!) / (Math.exp(scores[0]!) + Math.exp(scores[1]!)),
    );
    expect(Math.abs(noLatent[0]! - expected[0]!)).toBeGreaterThan(1e-2);
    tf.dispose([context, latents, out]);
    attn.dispose();
  });

  test('resampler: residual attention, residual ReLU MLP, final LayerNorm, per image (float64 reference)', () => {
    // 3 wide so that the final LayerNorm keeps magnitudes (a 2-wide LayerNorm only keeps the sign).
    const r = new IdeficsPerceiverResampler({ embedDim: 3, depth: 1, numHeads: 1, headDim: 3, numLatents: 1 });
    const eye = [
      [1, 0, 0],
      [0, 1, 0],
      [0, 0, 1],
    ];
    const outProj = [
      [2, 0, 0],
      [1, 1, 0],
      [0, 0.5, 1],
    ];
    // fc: 3 → 12 (embed_dim · 4), c_proj: 12 → 3.
    const fc = Array.from({ length: 12 }, (_, i) => Array.from({ length: 3 }, (_, j) => (((i * 3 + j) % 5) - 2) / 2));
    const cProj = Array.from({ length: 3 }, (_, i) => Array.from({ length: 12 }, (_, j) => (((i * 12 + j) % 7) - 3) / 4));
    const lnW = [2, 0.5, 1];
    const lnB = [0.1, -0.2, 0];
    set(r, {
      latents: [[3, 1, -1]],
      'blocks.0.0.q_proj.weight': eye,
      'blocks.0.0.k_proj.weight': eye,
      'blocks.0.0.v_proj.weight': eye,
      'blocks.0.0.output_proj.weight': outProj,
      'blocks.0.1.fc.weight': fc,
      'blocks.0.1.c_proj.weight': cProj,
      'layer_norm.weight': lnW,
      'layer_norm.bias': lnB,
    });
    const contexts = [
      [
        [0, 2, 1],
        [5, 1, -3],
      ],
      [
        [1, 1.5, 0],
        [-2, 4, 0.5],
      ],
    ];
    const out = r.forward(tf.tensor3d(contexts));
    expect(out.shape).toEqual([2, 1, 3]);
    const got = out.arraySync() as number[][][];
    contexts.forEach((context, n) => {
      const lat = [3, 1, -1];
      const lq = ln(lat);
      const kv = [...context.map((t) => ln(t)), lq];
      const scores = kv.map((k) => k.reduce((s, kd, d) => s + kd * lq[d]!, 0) / Math.sqrt(3));
      const z = scores.reduce((s, v) => s + Math.exp(v), 0);
      const attended = [0, 1, 2].map((d) => kv.reduce((s, k, i) => s + (Math.exp(scores[i]!) / z) * k[d]!, 0));
      const h1 = matvec(outProj, attended).map((v, d) => v + lat[d]!);
      const hidden = matvec(fc, ln(h1)).map((v) => Math.max(0, v));
      const h2 = matvec(cProj, hidden).map((v, d) => v + h1[d]!);
      const expected = ln(h2, lnW, lnB);
      got[n]![0]!.forEach((v, d) => expect(v).toBeCloseTo(expected[d]!, 4));
    });
    // The two images give different latents (each image is resampled on its own).
    expect(got[0]![0]![0]).not.toBeCloseTo(got[1]![0]![0]!, 2);
    out.dispose();
    r.dispose();
  });

  test('a feature width other than embed_dim is an E_SHAPE error naming both shapes', () => {
    const r = new IdeficsPerceiverResampler({ embedDim: 4, depth: 1, numHeads: 2, headDim: 2, numLatents: 3 });
    const x = tf.zeros([1, 5, 3]);
    expect(() => r.forward(x)).toThrow(/\[N, S, 4\], got \[1, 5, 3\]/);
    x.dispose();
    r.dispose();
  });
});
