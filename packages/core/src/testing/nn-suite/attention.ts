// MultiHeadAttention against attention written out in loops (masks, cross-attention, errors), run
// by core on cpu and by backend plugins with their fused kernels installed (index.ts).
import * as tf from '@tensorflow/tfjs-core';
import { describe, expect, test } from '@jest/globals';
import { isMmftError } from '../../errors';
import { MultiHeadAttention } from '../../nn/attention';
import { Linear } from '../../nn/linear';
import { causalMask, MASK_MIN, paddingMask } from '../../nn/masks';

type M = number[][];
const linear = (rows: M, w: M, b: number[]): M => rows.map((r) => w.map((wr, o) => wr.reduce((s, wi, i) => s + wi * r[i], b[o])));

/** Attention written out in loops, independent of the tfjs implementation. */
function reference(attn: MultiHeadAttention, hidden: tf.Tensor, kvStates: tf.Tensor, mask?: tf.Tensor): number[][][] {
  const p = (name: string) => {
    const fc = attn.getModule(name, Linear);
    return [fc.weight.arraySync() as M, fc.bias!.arraySync() as number[]] as const;
  };
  const [H, hd] = [attn.numHeads, attn.headDim];
  const m = mask?.arraySync() as number[][][][] | undefined;
  return (hidden.arraySync() as number[][][]).map((x, b) => {
    const kv = (kvStates.arraySync() as number[][][])[b];
    const [q, k, v] = [linear(x, ...p('q_proj')), linear(kv, ...p('k_proj')), linear(kv, ...p('v_proj'))];
    const ctx = q.map((qt, t) => {
      const row: number[] = [];
      for (let h = 0; h < H; h++) {
        const sl = (vec: number[]) => vec.slice(h * hd, (h + 1) * hd);
        const scores = k.map((ks, s) => {
          const add = m ? m[Math.min(b, m.length - 1)][0][Math.min(t, m[0][0].length - 1)][s] : 0;
          return sl(qt).reduce((acc, qi, i) => acc + qi * attn.scale * sl(ks)[i], 0) + add;
        });
        const max = Math.max(...scores);
        const e = scores.map((sc) => Math.exp(sc - max));
        const z = e.reduce((a, c) => a + c, 0);
        for (let i = 0; i < hd; i++) row.push(e.reduce((acc, ei, s) => acc + (ei / z) * sl(v[s])[i], 0));
      }
      return row;
    });
    return linear(ctx, ...p('out_proj'));
  });
}

const maxDiff = (a: tf.Tensor, b: tf.Tensor | number[][][]) =>
  tf.max(tf.abs(tf.sub(a, b instanceof tf.Tensor ? b : tf.tensor(b)))).dataSync()[0];

/** Registers core's attention tests; the caller has selected the backend. */
export function attentionSuite(): void {
  describe('MultiHeadAttention', () => {
    const D = 8;
    const make = (extra: Partial<ConstructorParameters<typeof MultiHeadAttention>[0]> = {}) =>
      new MultiHeadAttention({ embedDim: D, numHeads: 2, seed: 5, ...extra }).eval();

    test('uses HF CLIPAttention names; names are configurable', () => {
      const attn = make();
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
      expect(attn.scale).toBeCloseTo(1 / 2, 10);
      const bert = make({ names: { query: 'query', key: 'key', value: 'value', output: 'dense' }, bias: false });
      expect(bert.namedParameters().map(([n]) => n)).toEqual(['key.weight', 'value.weight', 'query.weight', 'dense.weight']);
      expect(() => make({ numHeads: 3 })).toThrow(/divisible/);
    });

    test('matches a loop-by-loop reference with and without masks', () => {
      const attn = make();
      const x = tf.randomNormal([2, 3, D], 0, 1, 'float32', 1);
      expect(maxDiff(attn.forward(x), reference(attn, x, x))).toBeLessThan(1e-5);
      const mask = causalMask(3);
      expect(maxDiff(attn.forward(x, { attentionMask: mask }), reference(attn, x, x, mask))).toBeLessThan(1e-5);
      const pad = paddingMask(
        tf.tensor2d([
          [1, 1, 1],
          [1, 1, 0],
        ]),
      );
      expect(maxDiff(attn.forward(x, { attentionMask: pad }), reference(attn, x, x, pad))).toBeLessThan(1e-5);
    });

    test('a masked key has no influence', () => {
      const attn = make();
      const x = tf.randomNormal([1, 3, D], 0, 1, 'float32', 2);
      const changed = tf.concat([tf.slice(x, [0, 0, 0], [1, 2, D]), tf.fill([1, 1, D], 100)], 1);
      const mask = causalMask(3);
      const y1 = attn.forward(x, { attentionMask: mask });
      const y2 = attn.forward(changed, { attentionMask: mask });
      expect(maxDiff(tf.slice(y1, [0, 0, 0], [1, 2, D]), tf.slice(y2, [0, 0, 0], [1, 2, D]))).toBe(0);
    });

    test('cross-attention reads keys and values from keyValueStates of another width and length', () => {
      const attn = make({ kvDim: 6 });
      const x = tf.randomNormal([2, 3, D], 0, 1, 'float32', 3);
      const kv = tf.randomNormal([2, 5, 6], 0, 1, 'float32', 4);
      const y = attn.forward(x, { keyValueStates: kv });
      expect(y.shape).toEqual([2, 3, D]);
      expect(maxDiff(y, reference(attn, x, kv))).toBeLessThan(1e-5);
    });

    test('pastKeyValues act as keys/values of extra leading tokens, mask widened inside', () => {
      const attn = make();
      const [x, prefix] = [tf.randomNormal([2, 3, D], 0, 1, 'float32', 6), tf.randomNormal([2, 2, D], 0, 1, 'float32', 7)];
      const heads = (t: tf.Tensor) => tf.transpose(tf.reshape(t, [2, 2, 2, 4]), [0, 2, 1, 3]); // [B, H, P, hd]
      const past = {
        key: heads(attn.getModule('k_proj', Linear).forward(prefix)),
        value: heads(attn.getModule('v_proj', Linear).forward(prefix)),
      };
      const pad = tf.tensor2d([
        [1, 1, 1],
        [1, 1, 0],
      ]);
      const y = attn.forward(x, { pastKeyValues: past, attentionMask: paddingMask(pad) });
      const full = tf.concat([prefix, x], 1);
      const fullMask = paddingMask(tf.concat([tf.ones([2, 2]), pad], 1));
      expect(maxDiff(y, attn.forward(x, { keyValueStates: full, attentionMask: fullMask }))).toBeLessThan(1e-5);
    });

    test('a batch-1 prefix is shared by the whole batch', () => {
      const attn = make();
      const x = tf.randomNormal([3, 2, D], 0, 1, 'float32', 8);
      const past = { key: tf.randomNormal([1, 2, 4, 4], 0, 1, 'float32', 9), value: tf.randomNormal([1, 2, 4, 4], 0, 1, 'float32', 10) };
      const tiled = { key: tf.tile(past.key, [3, 1, 1, 1]), value: tf.tile(past.value, [3, 1, 1, 1]) };
      expect(maxDiff(attn.forward(x, { pastKeyValues: past }), attn.forward(x, { pastKeyValues: tiled }))).toBe(0);
    });

    test('bad shapes fail with E_SHAPE and the shapes involved', () => {
      const attn = make();
      const x = tf.zeros([1, 3, D]);
      const expectShapeError = (fn: () => unknown, text: RegExp) => {
        try {
          fn();
          throw new Error('expected an error');
        } catch (e) {
          expect(isMmftError(e) && e.code).toBe('E_SHAPE');
          expect((e as Error).message).toMatch(text);
        }
      };
      expectShapeError(() => attn.forward(tf.zeros([1, 3, 4])), /\[B, T, 8\], got \[1, 3, 4\]/);
      expectShapeError(
        () => attn.forward(x, { attentionMask: causalMask(4) }),
        /attentionMask \[1, 1, 4, 4\] does not broadcast to .* \[1, 2, 3, 3\]/,
      );
      expectShapeError(
        () => attn.forward(x, { pastKeyValues: { key: tf.zeros([1, 2, 1, 3]), value: tf.zeros([1, 2, 1, 3]) } }),
        /pastKeyValues must be \[1 or 1, 2, P, 4\]/,
      );
    });

    test('attention dropout is active only in training mode', () => {
      const attn = make({ dropout: 0.5 });
      const x = tf.randomNormal([1, 4, D], 0, 1, 'float32', 11);
      expect(maxDiff(attn.forward(x), attn.forward(x))).toBe(0);
      attn.train();
      expect(maxDiff(attn.forward(x), attn.forward(x))).toBeGreaterThan(0);
    });

    test('forward leaves only its output behind', () => {
      const attn = make();
      const x = tf.randomNormal([1, 3, D]);
      const mask = causalMask(3);
      const before = tf.memory().numTensors;
      const y = attn.forward(x, { attentionMask: mask, pastKeyValues: { key: tf.zeros([1, 2, 2, 4]), value: tf.zeros([1, 2, 2, 4]) } });
      expect(tf.memory().numTensors).toBe(before + 2 + 1); // the two zeros inputs + the output
      expect(Number.isFinite(MASK_MIN)).toBe(true);
      y.dispose();
    });
  });
}
