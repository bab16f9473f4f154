// attendCausal and CausalSelfAttention against attention written out in plain JavaScript, plus the
// invariants generation relies on (one call = token by token through a DynamicCache, left padding
// changes no real token, grouped-query = copied kv heads), run by core on cpu and by backend plugins
// with their fused kernels installed (index.ts), which checks the fused Attention kernel too.
import * as tf from '@tensorflow/tfjs-core';
import { describe, expect, test } from '@jest/globals';
import { isMmftError } from '../../errors';
import { registerGradients } from '../../nn/gradients';
import { attendCausal, CausalSelfAttention, repeatKeyValueHeads, type CausalSelfAttentionOptions } from '../../nn/causal-attention';
import { DynamicCache } from '../../nn/kv-cache';
import { Linear } from '../../nn/linear';
import { causalLmMask, MASK_MIN, positionIdsFromMask } from '../../nn/masks';
import { RotaryEmbedding } from '../../nn/rotary';

type V = number[];

/** softmax(q·k·scale + mask)·v per (b, h, t), kv head floor(h / nRep), scores clamped at MASK_MIN in float32 as HF's eager path. */
function referenceAttend(q: V[][][], k: V[][][], v: V[][][], mask: number[][][][], scale: number): V[][] {
  const [H, Hkv] = [q[0].length, k[0].length];
  return q.map((heads, b) =>
    heads[0].map((_, t) => {
      const row: V = [];
      for (let h = 0; h < H; h++) {
        const kvHead = Math.floor(h / (H / Hkv));
        const m = mask[Math.min(b, mask.length - 1)][0][t];
        const scores = k[b][kvHead].map((ks, s) =>
          Math.max(Math.fround(heads[h][t].reduce((acc, qi, i) => acc + qi * ks[i], 0) * scale + m[s]), MASK_MIN),
        );
        const max = Math.max(...scores);
        const e = scores.map((sc) => Math.exp(sc - max));
        const z = e.reduce((a, c) => a + c, 0);
        for (let i = 0; i < heads[h][t].length; i++) row.push(e.reduce((acc, ei, s) => acc + (ei / z) * v[b][kvHead][s][i], 0));
      }
      return row;
    }),
  );
}

const maxDiff = (a: tf.Tensor, b: tf.Tensor | number[][][]) =>
  tf.tidy(() => tf.max(tf.abs(tf.sub(a, b instanceof tf.Tensor ? b : tf.tensor(b)))).dataSync()[0]);
const arr4 = (t: tf.Tensor) => t.arraySync() as V[][][];
const llama = (extra: Partial<CausalSelfAttentionOptions> = {}) =>
  new CausalSelfAttention({ embedDim: 8, numHeads: 4, numKeyValueHeads: 2, bias: false, seed: 11, ...extra }).eval();
const opt = (extra: Partial<CausalSelfAttentionOptions> = {}) =>
  new CausalSelfAttention({
    embedDim: 8,
    numHeads: 2,
    scaleQueries: true,
    names: { output: 'out_proj' },
    order: ['key', 'value', 'query', 'output'],
    seed: 12,
    ...extra,
  }).eval();
const int2d = (rows: number[][]) => tf.tensor2d(rows, [rows.length, rows[0].length], 'int32');

/** Run `attn` over `x` [B, T, D] with a 0/1 mask: in one call, or in chunks of the given sizes through a DynamicCache. */
function run(attn: CausalSelfAttention, x: tf.Tensor, mask2d: tf.Tensor, rope: RotaryEmbedding | undefined, chunks?: number[]): tf.Tensor {
  const [B, T] = x.shape;
  const sizes = chunks ?? [T];
  const cache = chunks ? new DynamicCache() : undefined;
  const outputs: tf.Tensor[] = [];
  let past = 0;
  for (const size of sizes) {
    outputs.push(
      tf.tidy(() => {
        const m = tf.slice(mask2d, [0, 0], [B, past + size]);
        const hidden = tf.slice(x, [0, past, 0], [B, size, -1]);
        const rotary = rope?.cosSin(positionIdsFromMask(m, past, size));
        return attn.forward(hidden, { attentionMask: causalLmMask(m, B!, size, past), rotary, cache, layer: cache ? 0 : undefined });
      }),
    );
    past += size;
  }
  cache?.dispose();
  const y = tf.concat(outputs, 1);
  tf.dispose(outputs);
  return y;
}

/** Rows of `y` [B, T, D] where the mask is 1, as plain arrays. */
const realRows = (y: tf.Tensor, mask: number[][]) =>
  (y.arraySync() as number[][][]).map((rows, b) => rows.filter((_, t) => mask[b][t] === 1));

/** Registers core's causal attention tests; the caller has selected the backend. */
export function causalAttentionSuite(): void {
  describe('attendCausal / CausalSelfAttention', () => {
    test('attendCausal equals plain softmax attention (padding mask, grouped-query heads)', () => {
      const [B, H, Hkv, T, hd] = [2, 4, 2, 3, 4];
      const q = tf.randomNormal([B, H, T, hd], 0, 1, 'float32', 1);
      const k = tf.randomNormal([B, Hkv, T, hd], 0, 1, 'float32', 2);
      const v = tf.randomNormal([B, Hkv, T, hd], 0, 1, 'float32', 3);
      const mask = causalLmMask(
        int2d([
          [1, 1, 1],
          [1, 1, 0],
        ]),
        B,
        T,
        0,
      );
      const y = attendCausal({ query: q, key: k, value: v, mask, scale: 0.5 });
      expect(y.shape).toEqual([B, T, H * hd]);
      expect(maxDiff(y, referenceAttend(arr4(q), arr4(k), arr4(v), mask.arraySync() as number[][][][], 0.5))).toBeLessThan(1e-5);
      // No mask: causal.
      const causal = attendCausal({ query: q, key: k, value: v, scale: 0.5 });
      const causalRef = referenceAttend(arr4(q), arr4(k), arr4(v), causalLmMask(undefined, 1, T, 0).arraySync() as number[][][][], 0.5);
      expect(maxDiff(causal, causalRef)).toBeLessThan(1e-5);
    });

    test('repeatKeyValueHeads gives query head h the kv head floor(h / nRep), as repeat_kv', () => {
      const kv = tf.tensor4d([10, 11, 20, 21], [1, 2, 1, 2]);
      expect(Array.from(repeatKeyValueHeads(kv, 3).dataSync())).toEqual([10, 11, 10, 11, 10, 11, 20, 21, 20, 21, 20, 21]);
      expect(repeatKeyValueHeads(kv, 1)).toBe(kv);
    });

    test('CausalSelfAttention equals projections + rotary + attention written out (Llama layout)', () => {
      const attn = llama();
      expect(attn.namedParameters().map(([n, p]) => [n, p.shape])).toEqual([
        ['q_proj.weight', [8, 8]],
        ['k_proj.weight', [4, 8]],
        ['v_proj.weight', [4, 8]],
        ['o_proj.weight', [8, 8]],
      ]);
      const x = tf.randomNormal([1, 3, 8], 0, 1, 'float32', 4);
      const rope = new RotaryEmbedding({ dim: 2, base: 10000 });
      const rotary = rope.cosSin(int2d([[0, 1, 2]]));
      const y = attn.forward(x, { rotary });
      const w = (name: string) => attn.getModule(name, Linear).weight.arraySync() as number[][];
      const lin = (rows: V[], W: number[][]) => rows.map((r) => W.map((wr) => wr.reduce((s, wi, i) => s + wi * r[i], 0)));
      const xs = (x.arraySync() as V[][])[0];
      const heads = (rows: V[], n: number) =>
        Array.from({ length: n }, (_, h) =>
          rows.map((r, t) => {
            const vec = r.slice(h * 2, h * 2 + 2);
            const [c, s] = [Math.cos(t), Math.sin(t)]; // dim 2: one frequency, inv_freq 1
            return [vec[0] * c - vec[1] * s, vec[1] * c + vec[0] * s];
          }),
        );
      const plainHeads = (rows: V[], n: number) => Array.from({ length: n }, (_, h) => rows.map((r) => r.slice(h * 2, h * 2 + 2)));
      const context = referenceAttend(
        [heads(lin(xs, w('q_proj')), 4)],
        [heads(lin(xs, w('k_proj')), 2)],
        [plainHeads(lin(xs, w('v_proj')), 2)],
        causalLmMask(undefined, 1, 3, 0).arraySync() as number[][][][],
        2 ** -0.5,
      );
      expect(maxDiff(y, [lin(context[0], w('o_proj'))])).toBeLessThan(1e-5);
    });

    test('OPT layout: biases, out_proj, HF registration order; scaling the queries equals scaling the scores', () => {
      const attn = opt();
      expect(attn.namedParameters().map(([n]) => n)).toEqual([
        'k_proj.weight',
        'k_proj.bias',
        'v_proj.weight',
        'v_proj.bias',
        'q_proj.weight',
        'q_proj.bias',
        'out_proj.weight',
        'out_proj.bias',
      ]);
      const other = opt({ scaleQueries: false });
      const x = tf.randomNormal([2, 3, 8], 0, 1, 'float32', 5);
      expect(maxDiff(attn.forward(x), other.forward(x))).toBeLessThan(1e-5);
      expect(
        llama({ bias: true, outputBias: false })
          .namedParameters()
          .map(([n]) => n),
      ).toEqual(['q_proj.weight', 'q_proj.bias', 'k_proj.weight', 'k_proj.bias', 'v_proj.weight', 'v_proj.bias', 'o_proj.weight']);
    });

    test('grouped-query attention with one kv head equals multi-head attention with that head copied', () => {
      const gqa = llama({ numKeyValueHeads: 1 });
      const mha = llama({ numKeyValueHeads: 4 });
      for (const name of ['q_proj', 'o_proj']) mha.getModule(name, Linear).weight.assign(gqa.getModule(name, Linear).weight);
      for (const name of ['k_proj', 'v_proj'])
        mha.getModule(name, Linear).weight.assign(tf.tile(gqa.getModule(name, Linear).weight, [4, 1]));
      const x = tf.randomNormal([2, 4, 8], 0, 1, 'float32', 6);
      const rope = new RotaryEmbedding({ dim: 2 });
      const mask2d = int2d([
        [1, 1, 1, 1],
        [0, 1, 1, 1],
      ]);
      expect(maxDiff(run(gqa, x, mask2d, rope), run(mha, x, mask2d, rope))).toBeLessThan(1e-5);
    });

    test('one call equals prefill + token-by-token decoding through a DynamicCache', () => {
      const mask = [
        [0, 0, 1, 1, 1, 1],
        [1, 1, 1, 1, 0, 1],
      ];
      const x = tf.randomNormal([2, 6, 8], 0, 1, 'float32', 7);
      for (const [attn, rope] of [
        [llama(), new RotaryEmbedding({ dim: 2, base: 100 })],
        [opt(), undefined],
      ] as const) {
        const full = realRows(run(attn, x, int2d(mask), rope), mask);
        for (const chunks of [
          [1, 1, 1, 1, 1, 1],
          [3, 1, 1, 1],
          [4, 2],
        ]) {
          const stepped = realRows(run(attn, x, int2d(mask), rope, chunks), mask);
          expect(maxDiff(tf.tensor(stepped.flat()), tf.tensor(full.flat()))).toBeLessThan(1e-5);
        }
      }
    });

    test('left padding does not change the outputs of the real tokens', () => {
      const attn = llama();
      const rope = new RotaryEmbedding({ dim: 2, base: 100 });
      const a = tf.randomNormal([1, 3, 8], 0, 1, 'float32', 8);
      const b = tf.randomNormal([1, 5, 8], 0, 1, 'float32', 9);
      const alone = run(attn, a, int2d([[1, 1, 1]]), rope);
      // Pad a on the left with garbage to b's length and batch them.
      const padded = tf.concat([tf.concat([tf.fill([1, 2, 8], 7), a], 1), b], 0);
      const batched = run(
        attn,
        padded,
        int2d([
          [0, 0, 1, 1, 1],
          [1, 1, 1, 1, 1],
        ]),
        rope,
      );
      expect(maxDiff(tf.slice(batched, [0, 2, 0], [1, 3, 8]), alone)).toBeLessThan(1e-5);
      expect(maxDiff(tf.slice(batched, [1, 0, 0], [1, 5, 8]), run(attn, b, int2d([[1, 1, 1, 1, 1]]), rope))).toBeLessThan(1e-5);
    });

    test('gradients flow to every projection (training without a cache)', () => {
      expect(registerGradients()).toBe(true);
      const attn = llama({ bias: true }).train();
      const rope = new RotaryEmbedding({ dim: 2 });
      const x = tf.randomNormal([2, 3, 8], 0, 1, 'float32', 10);
      const mask2d = int2d([
        [1, 1, 1],
        [0, 1, 1],
      ]);
      const target = tf.randomNormal([2, 3, 8], 0, 1, 'float32', 11);
      const { value, grads } = tf.variableGrads(() =>
        tf.tidy(() => {
          const y = attn.forward(x, {
            attentionMask: causalLmMask(mask2d, 2, 3, 0),
            rotary: rope.cosSin(positionIdsFromMask(mask2d, 0, 3)),
          });
          return tf.sum(tf.mul(y, target)) as tf.Scalar;
        }),
      );
      expect(Number.isFinite(value.dataSync()[0])).toBe(true);
      for (const [name, p] of attn.namedParameters()) {
        const g = grads[p.name];
        expect([name, g.shape]).toEqual([name, p.shape]);
        const data = Array.from(g.dataSync());
        expect(data.every(Number.isFinite)).toBe(true);
        expect(Math.max(...data.map(Math.abs))).toBeGreaterThan(0);
      }
      tf.dispose([value, ...Object.values(grads)]);
    });

    test('attention dropout acts only in training mode', () => {
      const attn = llama({ dropout: 0.5 });
      const x = tf.randomNormal([1, 4, 8], 0, 1, 'float32', 12);
      expect(maxDiff(attn.forward(x), attn.forward(x))).toBe(0);
      attn.train();
      expect(maxDiff(attn.forward(x), attn.forward(x))).toBeGreaterThan(0);
    });

    test('forward leaves only its output behind; the cache holds one key and one value per layer', () => {
      const attn = llama();
      const rope = new RotaryEmbedding({ dim: 2 });
      const x = tf.randomNormal([1, 3, 8]);
      const cache = new DynamicCache();
      const step = (hidden: tf.Tensor, past: number) => {
        const mask2d = tf.ones([1, past + hidden.shape[1]!], 'int32');
        const mask = causalLmMask(mask2d, 1, hidden.shape[1]!, past);
        const rotary = rope.cosSin(positionIdsFromMask(mask2d, past, hidden.shape[1]!));
        const before = tf.memory().numTensors;
        const y = attn.forward(hidden, { attentionMask: mask, rotary, cache, layer: 0 });
        const added = tf.memory().numTensors - before;
        tf.dispose([mask2d, mask, rotary.cos, rotary.sin, y]);
        return added;
      };
      expect(step(x, 0)).toBe(1 + 2); // output + the cache's first key and value
      expect(step(tf.slice(x, [0, 0, 0], [1, 1, 8]), 3)).toBe(1); // the cache replaced its two tensors
      expect(cache.length).toBe(4);
      const before = tf.memory().numTensors;
      cache.dispose();
      expect(tf.memory().numTensors).toBe(before - 2);
    });

    test('bad inputs fail with E_SHAPE / E_CONFIG naming what is wrong', () => {
      const expectError = (fn: () => unknown, code: string, text: RegExp) => {
        try {
          fn();
          throw new Error('expected an error');
        } catch (e) {
          expect(isMmftError(e) && e.code).toBe(code);
          expect((e as Error).message).toMatch(text);
        }
      };
      const q = tf.zeros([1, 3, 2, 4]);
      const kv = tf.zeros([1, 2, 2, 4]);
      expectError(() => attendCausal({ query: q, key: kv, value: kv, scale: 1 }), 'E_SHAPE', /H a multiple of Hkv/);
      const q4 = tf.zeros([1, 4, 2, 4]);
      expectError(
        () => attendCausal({ query: q4, key: kv, value: kv, scale: 1, cache: new DynamicCache() }),
        'E_SHAPE',
        /needs the layer index/,
      );
      expectError(
        () => attendCausal({ query: q4, key: kv, value: kv, scale: 1, mask: causalLmMask(undefined, 1, 2, 1) }),
        'E_SHAPE',
        /mask \[1, 1, 2, 3\] does not broadcast to \[B, H, T, past \+ T\] = \[1, 4, 2, 2\]/,
      );
      expectError(() => llama({ numKeyValueHeads: 3 }), 'E_CONFIG', /multiple of num_key_value_heads \(3\)/);
      expectError(() => llama().forward(tf.zeros([1, 2, 6])), 'E_SHAPE', /\[B, T, 8\], got \[1, 2, 6\]/);
    });
  });
}
