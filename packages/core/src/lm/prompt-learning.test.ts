// The prompt-learning hook of CausalLMBase (contracts/prompt-learning.ts) on core's tinyCausalLm,
// whose logits at t are (e[x_t] + e[x_{t-1}])·Eᵀ with layer 0 of the cache holding the embeddings
// seen so far: a prefix [P, D] in that layer is "the tokens before the first one", so every number
// below is checked by hand or against the same model fed a hand-prefilled cache, as PEFT's
// PeftModelForCausalLM feeds the base model (peft/peft_model.py).
import '@tensorflow/tfjs-backend-cpu';
import * as tf from '@tensorflow/tfjs-core';
import { afterAll, beforeAll, describe, expect, test } from '@jest/globals';
import { causalLmPromptHost, type CausalLmPromptSource } from '../contracts/prompt-learning';
import type { Embedding } from '../nn/embedding';
import { DynamicCache } from '../nn/kv-cache';
import { registerGradients } from '../nn/gradients';
import { positionIdsFromMask } from '../nn/masks';
import { tinyCausalLm, type TinyCausalLm } from '../testing/tiny-causal-lm';
import { causalLmLoss } from './loss';

let lm: TinyCausalLm;
let table: tf.Variable; // P = 2 virtual rows of width D = 8

beforeAll(async () => {
  tf.env().set('IS_TEST', true);
  await tf.setBackend('cpu');
  registerGradients();
  lm = tinyCausalLm({ seed: 3 });
  table = tf.variable(
    tf.tensor2d([
      [0.5, -1, 0.25, 2, 0, 1, -0.5, 0.75],
      [3, 1.5, -6, 0.75, 4.5, -3, 0, 1.5],
    ]),
    true,
    'prefix',
  );
});

afterAll(() => {
  lm.dispose();
  table.dispose();
});

const P = 2;
const ids = (rows: number[][]) => tf.tensor2d(rows, [rows.length, rows[0]!.length], 'int32');
const rows3 = (t: tf.Tensor) => {
  const out = t.arraySync() as number[][][];
  t.dispose();
  return out;
};
const E = () => lm.root.getModule<Embedding>('model.embed_tokens').weight.arraySync() as number[][];
const dot = (a: number[], b: number[]) => a.reduce((s, v, i) => s + v * b[i]!, 0);
const add = (a: number[], b: number[]) => a.map((v, i) => v + b[i]!);
const near = (a: number[][][], b: number[][][], digits = 5) =>
  a.forEach((r, i) => r.forEach((row, t) => row.forEach((v, j) => expect(v).toBeCloseTo(b[i]![t]![j]!, digits))));

/** The layer-0 prefix [B, 1, P, D] the tiny model reads as earlier embeddings. */
const prefixSource = (numVirtualTokens = P): CausalLmPromptSource => ({
  kind: 'prefix',
  numVirtualTokens,
  keyValues: (b) =>
    tf.tidy(() => {
      const kv = tf.tile(tf.reshape(tf.slice(table, [0, 0], [numVirtualTokens, -1]), [1, 1, numVirtualTokens, 8]), [b, 1, 1, 1]);
      return [{ key: kv, value: tf.clone(kv) }];
    }),
});

/** The same prefix put into `cache` by hand, as PEFT's get_prompt builds past_key_values. */
function prefill(cache: DynamicCache, batch: number): void {
  const kv = tf.tidy(() => tf.tile(tf.reshape(table, [1, 1, P, 8]), [batch, 1, 1, 1]));
  cache.update(0, kv, kv);
  kv.dispose();
}

const promptSource = (): CausalLmPromptSource => ({
  kind: 'prompt',
  numVirtualTokens: P,
  embeddings: (b) => tf.tidy(() => tf.tile(tf.expandDims(table, 0), [b, 1, 1])),
});

function attached<T>(source: CausalLmPromptSource | undefined, fn: () => T): T {
  lm.setPromptSource(source);
  try {
    return fn();
  } finally {
    lm.setPromptSource(undefined);
  }
}

describe('CausalLMBase prompt-learning hook', () => {
  test('the model is found from its root module (what PEFT methods are given)', () => {
    expect(causalLmPromptHost(lm.root)).toBe(lm);
    expect(causalLmPromptHost(tinyCausalLm().root)).toBeDefined();
  });

  test('prefix: the first token sees the last prefix row as its predecessor (hand-computed), later tokens are unchanged', () => {
    const x = [[5, 6, 7]];
    const base = rows3(lm.forward({ inputIds: ids(x) }).logits);
    const got = rows3(attached(prefixSource(), () => lm.forward({ inputIds: ids(x) }).logits));
    const e = E();
    const prefixLast = (table.arraySync() as number[][])[P - 1]!;
    const first = e.map((row) => dot(add(e[5]!, prefixLast), row));
    got[0]![0]!.forEach((v, j) => expect(v).toBeCloseTo(first[j]!, 4));
    expect(got[0]![0]).not.toEqual(base[0]![0]);
    near([got[0]!.slice(1)], [base[0]!.slice(1)]);
  });

  test('a zero-length source is the base model exactly', () => {
    const x = ids([[5, 6, 7]]);
    const base = rows3(lm.forward({ inputIds: x }).logits);
    expect(rows3(attached(prefixSource(0), () => lm.forward({ inputIds: x }).logits))).toEqual(base);
    x.dispose();
  });

  test('prefix: logits equal the base model fed a hand-prefilled DynamicCache, P leading mask ones and positions + P', () => {
    const x = ids([
      [0, 5, 6, 7],
      [8, 9, 10, 11],
    ]);
    const mask = ids([
      [0, 1, 1, 1],
      [1, 1, 1, 1],
    ]);
    const got = rows3(attached(prefixSource(), () => lm.forward({ inputIds: x, attentionMask: mask }).logits));
    const cache = new DynamicCache();
    prefill(cache, 2);
    const wide = tf.concat([tf.ones([2, P], 'int32'), mask], 1);
    const positions = positionIdsFromMask(wide, P, 4);
    expect(positions.arraySync()).toEqual([
      [1, P, P + 1, P + 2], // padding gets 1 as in transformers' prepare_inputs_for_generation
      [P, P + 1, P + 2, P + 3],
    ]);
    const manual = rows3(lm.forward({ inputIds: x, attentionMask: wide, positionIds: positions, pastKeyValues: cache }).logits);
    near(got, manual);
    tf.dispose([x, mask, wide, positions]);
    cache.dispose();
  });

  test('prefix: a caller cache that starts empty is prefilled in place; a later call widens the mask only', () => {
    const cache = new DynamicCache();
    attached(prefixSource(), () => {
      tf.dispose(lm.forward({ inputIds: ids([[5, 6]]), attentionMask: ids([[1, 1]]), pastKeyValues: cache }).logits);
      expect(cache.length).toBe(P + 2);
      const step = rows3(lm.forward({ inputIds: ids([[7]]), attentionMask: ids([[1, 1, 1]]), pastKeyValues: cache }).logits);
      const e = E();
      const expected = e.map((row) => dot(add(e[7]!, e[6]!), row));
      step[0]![0]!.forEach((v, j) => expect(v).toBeCloseTo(expected[j]!, 4));
      expect(cache.length).toBe(P + 3);
      expect(() => lm.forward({ inputIds: ids([[8]]), attentionMask: ids([[1, 1, 1, 1, 1, 1]]), pastKeyValues: cache })).toThrow(
        /attentionMask \[1, 6\] must be \[1, 4\] \(the past and new tokens without the 2 virtual positions/,
      );
    });
    cache.dispose();
  });

  test('prefix: greedy generate() equals a greedy loop over a hand-prefilled cache', async () => {
    const x = [[5]]; // one token: its successor depends on the prefix
    const options = { maxNewTokens: 5 };
    const generated = await (async () => {
      lm.setPromptSource(prefixSource());
      try {
        return await lm.generate({ inputIds: ids(x) }, options);
      } finally {
        lm.setPromptSource(undefined);
      }
    })();
    const base = await lm.generate({ inputIds: ids(x) }, options);
    const cache = new DynamicCache();
    prefill(cache, 1);
    const manual: number[] = [];
    let next = ids(x);
    let seen = 1;
    const eos = lm.generationConfig.eos_token_id as number;
    for (let step = 0; step < 5; step++) {
      const t = next.shape[1]!;
      const logits = rows3(
        lm.forward({
          inputIds: next,
          attentionMask: tf.ones([1, P + seen], 'int32'),
          positionIds: tf.tidy(() => tf.expandDims(tf.range(P + seen - t, P + seen, 1, 'int32'), 0)),
          pastKeyValues: cache,
        }).logits,
      );
      const last = logits[0]![t - 1]!;
      const token = last.indexOf(Math.max(...last));
      manual.push(token);
      if (token === eos) break;
      next = ids([[token]]);
      seen += 1;
    }
    cache.dispose();
    expect(generated.sequences[0]).toEqual(manual);
    expect(generated.sequences[0]![0]).not.toBe(base.sequences[0]![0]);
  });

  test('prompt: embeddings [v; e(x)], labels with P leading -100, logits [B, P+T, V] equal the base fed the same', () => {
    const x = ids([[5, 6, 7]]);
    const labels = ids([[5, 6, 7]]);
    const mask = ids([[1, 1, 1]]);
    const out = attached(promptSource(), () => lm.forward({ inputIds: x, attentionMask: mask, labels }));
    const logits = rows3(out.logits);
    expect(logits[0]!.length).toBe(P + 3);
    const embeds = tf.tidy(() => tf.concat([tf.expandDims(table, 0), lm.embedTokens(x)], 1));
    const padded = ids([[-100, -100, 5, 6, 7]]);
    const manual = lm.forward({ inputsEmbeds: embeds, attentionMask: ids([[1, 1, 1, 1, 1]]), labels: padded });
    near(logits, rows3(manual.logits));
    expect(out.loss!.dataSync()[0]).toBeCloseTo(manual.loss!.dataSync()[0]!, 5);
    // by hand: position P (the first real token) reads the last virtual token as its predecessor
    const e = E();
    const v = table.arraySync() as number[][];
    e.map((row) => dot(add(e[5]!, v[P - 1]!), row)).forEach((value, j) => expect(logits[0]![P]![j]).toBeCloseTo(value, 4));
    // the loss is the base loss over the padded labels, not over the unpadded ones
    const check = causalLmLoss(tf.tensor3d(logits), padded);
    expect(check.dataSync()[0]).toBeCloseTo(out.loss!.dataSync()[0]!, 5);
    tf.dispose([x, labels, mask, embeds, padded, out.loss!, manual.loss!, check]);
  });

  test('prompt: greedy generate() equals a loop whose first step is the base fed [v; e(x)]', async () => {
    const x = [[5, 6, 7]];
    lm.setPromptSource(promptSource());
    let generated;
    try {
      generated = await lm.generate({ inputIds: ids(x) }, { maxNewTokens: 4 });
    } finally {
      lm.setPromptSource(undefined);
    }
    const cache = new DynamicCache();
    const manual: number[] = [];
    const eos = lm.generationConfig.eos_token_id as number;
    let inputs: { inputIds?: tf.Tensor; inputsEmbeds?: tf.Tensor } = {
      inputsEmbeds: tf.tidy(() => tf.concat([tf.expandDims(table, 0), lm.embedTokens(ids(x))], 1)),
    };
    let seen = P + 3;
    for (let step = 0; step < 4; step++) {
      const logits = rows3(lm.forward({ ...inputs, attentionMask: tf.ones([1, seen], 'int32'), pastKeyValues: cache }).logits);
      const row = logits[0]!;
      const last = row[row.length - 1]!;
      const token = last.indexOf(Math.max(...last));
      manual.push(token);
      if (token === eos) break;
      inputs = { inputIds: ids([[token]]) };
      seen += 1;
    }
    cache.dispose();
    expect(generated.sequences[0]).toEqual(manual);
  });

  test('gradients reach the prefix (and the prompt) through the cache; nothing leaks', () => {
    for (const source of [prefixSource(), promptSource()]) {
      const before = tf.memory().numTensors;
      const x = ids([[5, 6, 7]]);
      const labels = ids([[5, 6, 7]]);
      lm.setPromptSource(source);
      const { value, grads } = tf.variableGrads(() => {
        const out = lm.forward({ inputIds: x, labels });
        out.logits.dispose();
        return out.loss as tf.Scalar;
      }, [table]);
      lm.setPromptSource(undefined);
      expect(Object.keys(grads)).toEqual([table.name]);
      const g = grads[table.name]!.arraySync() as number[][];
      // the last prefix row is the first token's predecessor: it gets a gradient
      expect(g[P - 1]!.some((v) => v !== 0)).toBe(true);
      tf.dispose([value, ...Object.values(grads), x, labels]);
      expect(tf.memory().numTensors).toBe(before);
    }
  });

  test('forward and generate with a source leak no tensor', async () => {
    for (const source of [prefixSource(), promptSource()]) {
      lm.setPromptSource(source);
      const x = ids([[5, 6, 7]]);
      const mask = ids([[1, 1, 1]]);
      const before = tf.memory().numTensors;
      tf.dispose(lm.forward({ inputIds: x, attentionMask: mask }).logits);
      await lm.generate({ inputIds: x }, { maxNewTokens: 3 });
      await lm.generate({ inputIds: x }, { maxNewTokens: 2, numBeams: 2 });
      lm.setPromptSource(undefined);
      expect(tf.memory().numTensors).toBe(before);
      tf.dispose([x, mask]);
    }
  });
});
