import '@tensorflow/tfjs-backend-cpu';
import { describe, expect, test } from '@jest/globals';
import * as tf from '@tensorflow/tfjs-core';
import { MASK_MIN } from '@mmft/core/nn';
import { parseIdeficsConfig } from './config';
import { IdeficsGatedCrossAttentionLayer } from './gated-cross-attention';

// A float64 IdeficsGatedCrossAttentionLayer (modeling_idefics.py) for hidden 4, 2 heads of 2, vision width 3.
type Mat = number[][];
const fill = (rows: number, cols: number, k: number): Mat =>
  Array.from({ length: rows }, (_, i) => Array.from({ length: cols }, (_, j) => ((((i * cols + j) * k) % 11) - 5) / 7));
const linear = (x: number[], w: Mat) => w.map((row) => row.reduce((s, wi, i) => s + wi * x[i]!, 0));
const rms = (x: number[], w: number[], eps: number) => {
  const ms = x.reduce((s, v) => s + v * v, 0) / x.length;
  return x.map((v, i) => (v / Math.sqrt(ms + eps)) * w[i]!);
};
const silu = (v: number) => v / (1 + Math.exp(-v));

describe('IdeficsGatedCrossAttentionLayer against a float64 reference', () => {
  const config = parseIdeficsConfig(
    {
      hidden_size: 4,
      num_attention_heads: 2,
      intermediate_size: 3,
      num_hidden_layers: 1,
      rms_norm_eps: 1e-6,
      alpha_type: 'vector',
      vision_config: { embed_dim: 3 },
    },
    'test',
  );
  const W = {
    q: fill(4, 4, 3),
    k: fill(4, 3, 5),
    v: fill(4, 3, 7),
    o: fill(4, 4, 2),
    gate: fill(3, 4, 4),
    up: fill(3, 4, 6),
    down: fill(4, 3, 8),
  };
  const lnIn = [1, 2, 0.5, 1];
  const lnPost = [0.5, 1, 1.5, 2];
  const alphaAttn = [0.1, -0.2, 0.3, 0.4];
  const alphaDense = [0.5, 0.25, -0.5, 1];
  const x: Mat = [
    [0.3, -1, 2, 0.5],
    [1, 0.2, -0.4, 1.5],
    [-0.7, 0.9, 0.1, -1.2],
  ];
  const images: Mat = [
    [1, 0, -1],
    [0.5, 2, 0.25],
  ];
  // token 0 sees no image (gate 0), token 1 sees slot 0 only, token 2 both slots.
  const visible = [
    [false, false],
    [true, false],
    [true, true],
  ];

  function reference(): Mat {
    const keys = images.map((img) => linear(img, W.k));
    const values = images.map((img) => linear(img, W.v));
    return x.map((xt, t) => {
      const q = linear(rms(xt, lnIn, 1e-6), W.q);
      const attended: number[] = [];
      for (let h = 0; h < 2; h++) {
        const qh = q.slice(2 * h, 2 * h + 2);
        const scores = keys.map((k, s) => (visible[t]![s] ? (qh[0]! * k[2 * h]! + qh[1]! * k[2 * h + 1]!) / Math.SQRT2 : -Infinity));
        const max = Math.max(...scores);
        // A token that sees no image: uniform weights in the attention, then zeroed by the gate.
        const e = scores.map((s) => (max === -Infinity ? 1 : Math.exp(s - max)));
        const z = e.reduce((a, b) => a + b, 0);
        for (let d = 0; d < 2; d++) attended.push(values.reduce((acc, v, s) => acc + (e[s]! / z) * v[2 * h + d]!, 0));
      }
      const gate = visible[t]!.some(Boolean) ? 1 : 0;
      const out = linear(attended, W.o);
      const h1 = xt.map((v, i) => v + Math.tanh(alphaAttn[i]!) * out[i]! * gate);
      const n = rms(h1, lnPost, 1e-6);
      const g = linear(n, W.gate).map(silu);
      const u = linear(n, W.up);
      const dense = linear(
        g.map((gi, i) => gi * u[i]!),
        W.down,
      );
      return h1.map((v, i) => v + Math.tanh(alphaDense[i]!) * dense[i]!);
    });
  }

  test('cross-attention (text queries, image keys/values, per-token mask and gate), tanh gates, SwiGLU MLP', () => {
    const layer = new IdeficsGatedCrossAttentionLayer(config, 1);
    const sd = layer.stateDict();
    const set = (name: string, value: number[] | Mat) => {
      const v = sd.get(name);
      if (!v) throw new Error(`no ${name} among ${[...sd.keys()].join(', ')}`);
      v.assign(tf.tensor(value.flat(), v.shape));
    };
    set('cross_attn.q_proj.weight', W.q);
    set('cross_attn.k_proj.weight', W.k);
    set('cross_attn.v_proj.weight', W.v);
    set('cross_attn.o_proj.weight', W.o);
    set('mlp.gate_proj.weight', W.gate);
    set('mlp.up_proj.weight', W.up);
    set('mlp.down_proj.weight', W.down);
    set('input_layernorm.weight', lnIn);
    set('post_attention_layernorm.weight', lnPost);
    set('alpha_cross_attn', alphaAttn);
    set('alpha_dense', alphaDense);
    expect(sd.size).toBe(11); // bias-free: nothing else to set
    const mask = tf.tensor4d(
      visible.flatMap((row) => row.map((v) => (v ? 0 : MASK_MIN))),
      [1, 1, 3, 2],
    );
    const gate = tf.tensor3d([0, 1, 1], [1, 3, 1]);
    const hidden = tf.tensor3d([x]);
    const imageStates = tf.tensor3d([images]);
    const out = layer.forward(hidden, { imageStates, mask, gate });
    const got = (out.arraySync() as number[][][])[0]!;
    const expected = reference();
    got.forEach((row, t) => row.forEach((v, i) => expect(v).toBeCloseTo(expected[t]![i]!, 5)));
    // Without images only the dense branch runs: token 0 (which sees no image) is the same either way.
    const textOnly = layer.forward(hidden);
    expect((textOnly.arraySync() as number[][][])[0]![0]).toEqual(got[0]);
    tf.dispose([mask, gate, hidden, imageStates, out, textOnly]);
    layer.dispose();
  });
});
