// Prefix and prompt tuning on a causal LM (a toy CausalLMBase from core pieces, grouped-query heads
// and rotary positions): logits and generate() against the same base model fed what PEFT's
// PeftModelForCausalLM feeds it (peft/peft_model.py): past_key_values laid out from the flat table
// by hand (get_prompt's view [B, P, 2L, H, hd] + permute + split), P leading mask ones, the caller's
// positions + P (_adjust_prompt_learning_kwargs); for prompt tuning, [virtual; embedded] inputs and
// labels with P leading -100. Shapes with GQA as peft/utils/other.py _prepare_prompt_learning_config.
import '@tensorflow/tfjs-backend-cpu';
import * as tf from '@tensorflow/tfjs-core';
import { beforeAll, describe, expect, test } from '@jest/globals';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { loadAdapter, readAdapterConfig, saveAdapter, withAdaptersDisabled, type PeftMethodProvider } from '@mmft/core';
import { writeSafetensors } from '@mmft/core/io';
import { causalLmLoss } from '@mmft/core/lm';
import { DynamicCache, positionIdsFromMask, registerGradients } from '@mmft/core/nn';
import { prefixTuningMethod, promptTuningMethod } from './plugin';
import { DIM, ids, INPUTS, LAYERS, ToyCausalLm, VOCAB } from './toy-causal-lm.test-helper';

beforeAll(async () => {
  tf.env().set('IS_TEST', true);
  await tf.setBackend('cpu');
  registerGradients();
});

const P = 3;
const rows = <T>(t: tf.Tensor): T => {
  const out = t.arraySync() as T;
  t.dispose();
  return out;
};
const prefix = (config: Record<string, unknown> = {}) =>
  prefixTuningMethod.configSchema.parse({ num_virtual_tokens: P, seed: 5, ...config });
const prompt = (config: Record<string, unknown> = {}) =>
  promptTuningMethod.configSchema.parse({ num_virtual_tokens: P, seed: 5, ...config });

/** Layer l's keys/values [B, H, P, hd] from the flat table, indexed as PEFT's view + permute read it. */
function pastKeyValues(table: number[][], batch: number, heads: number, headDim: number): Array<{ key: tf.Tensor; value: tf.Tensor }> {
  const at = (p: number, l2: number, h: number, j: number) => table[p]![(l2 * heads + h) * headDim + j]!;
  return Array.from({ length: LAYERS }, (_, l) => {
    const part = (which: 0 | 1) =>
      tf.tensor4d(
        Array.from({ length: batch }, () =>
          Array.from({ length: heads }, (_, h) =>
            Array.from({ length: P }, (_, p) => Array.from({ length: headDim }, (_, j) => at(p, 2 * l + which, h, j))),
          ),
        ),
      );
    return { key: part(0), value: part(1) };
  });
}

function prefilled(table: number[][], batch: number, heads: number, headDim: number): DynamicCache {
  const cache = new DynamicCache();
  pastKeyValues(table, batch, heads, headDim).forEach(({ key, value }, l) => {
    cache.update(l, key, value);
    tf.dispose([key, value]);
  });
  return cache;
}

const shifted = (mask: number[][], past: number, length: number) =>
  tf.tidy(() => tf.add(positionIdsFromMask(ids(mask), past, length), tf.scalar(P, 'int32')));
const widen = (mask: number[][]) => ids(mask.map((r) => [...Array(P).fill(1), ...r]));
const argmaxLast = (logits: number[][][]) =>
  logits.map((r) => {
    const last = r[r.length - 1]!;
    return last.indexOf(Math.max(...last));
  });

describe('prefix tuning on a causal LM', () => {
  test.each([
    ['grouped-query (4 heads, 2 kv heads)', 2, 2, 4],
    ['multi-head (no num_key_value_heads in config.json)', undefined, 4, 8],
  ])('%s: token_dim and heads as PEFT derives them; prompt_embeddings [P, L·2·token_dim]', (_name, kvHeads, heads, tokenDim) => {
    const lm = new ToyCausalLm({ kvHeads });
    const applied = prefixTuningMethod.apply(lm.root, prefix(), 'default');
    expect(applied.adapterConfigExtras!()).toEqual({
      token_dim: tokenDim,
      num_layers: LAYERS,
      num_attention_heads: heads,
      encoder_hidden_size: tokenDim,
    });
    expect(applied.adapterStateDict().get('prompt_embeddings')!.shape).toEqual([P, LAYERS * 2 * tokenDim]);
    expect(() => prefixTuningMethod.apply(new ToyCausalLm({ kvHeads }).root, prefix({ token_dim: DIM * 2 }), 'default')).toThrow(
      new RegExp(`token_dim is ${DIM * 2} in the config but the targeted model has ${tokenDim}`),
    );
    lm.dispose();
  });

  test.each([
    ['GQA', 2],
    ['MHA', undefined],
  ])('%s: logits equal the base model fed a hand-built prefix cache, P leading mask ones and positions + P', (_name, kvHeads) => {
    const lm = new ToyCausalLm({ kvHeads });
    const heads = kvHeads ?? 4;
    const applied = prefixTuningMethod.apply(lm.root, prefix(), 'default');
    const table = rows<number[][]>(tf.clone(applied.adapterStateDict().get('prompt_embeddings')!));
    const [x, mask] = [ids(INPUTS.inputIds), ids(INPUTS.attentionMask)];
    const got = rows<number[][][]>(lm.forward({ inputIds: x, attentionMask: mask }).logits);
    const base = rows<number[][][]>(withAdaptersDisabled(lm.root, () => lm.forward({ inputIds: x, attentionMask: mask }).logits));
    const cache = prefilled(table, 2, heads, DIM / 4);
    const [wide, positions] = [widen(INPUTS.attentionMask), shifted(INPUTS.attentionMask, 0, 4)];
    const manual = rows<number[][][]>(
      withAdaptersDisabled(
        lm.root,
        () => lm.forward({ inputIds: x, attentionMask: wide, positionIds: positions, pastKeyValues: cache }).logits,
      ),
    );
    INPUTS.attentionMask.forEach((r, b) =>
      r.forEach((m, t) => {
        if (m === 0) return; // padding: masked everywhere, its own position differs (1 vs P + 1) and nothing reads it
        manual[b]![t]!.forEach((v, j) => expect(got[b]![t]![j]).toBeCloseTo(v, 5));
        expect(got[b]![t]).not.toEqual(base[b]![t]);
      }),
    );
    // positions matter here: unshifted positions give other logits
    const unshifted = rows<number[][][]>(
      withAdaptersDisabled(lm.root, () => {
        const c = prefilled(table, 2, heads, DIM / 4);
        try {
          return lm.forward({ inputIds: x, attentionMask: wide, positionIds: positionIdsFromMask(mask, 0, 4), pastKeyValues: c }).logits;
        } finally {
          c.dispose();
        }
      }),
    );
    expect(Math.abs(unshifted[1]![3]![0]! - got[1]![3]![0]!)).toBeGreaterThan(1e-6);
    cache.dispose();
    tf.dispose([x, mask, wide, positions]);
    lm.dispose();
  });

  test('greedy and beam generate() equal decoding by hand from a prefilled cache (left-padded batch); nothing leaks', async () => {
    const lm = new ToyCausalLm({ kvHeads: 2 });
    const applied = prefixTuningMethod.apply(lm.root, prefix(), 'default');
    const [, variable] = applied.trainableParameters()[0]!;
    tf.tidy(() => variable.assign(tf.randomNormal(variable.shape, 0, 3, 'float32', 11))); // a prefix strong enough to change the argmax
    const table = rows<number[][]>(tf.clone(applied.adapterStateDict().get('prompt_embeddings')!));
    const [x, mask] = [ids(INPUTS.inputIds), ids(INPUTS.attentionMask)];
    const before = tf.memory().numTensors;
    const generated = await lm.generate({ inputIds: x, attentionMask: mask }, { maxNewTokens: 5 });
    await lm.generate({ inputIds: x, attentionMask: mask }, { maxNewTokens: 3, numBeams: 2, numReturnSequences: 2 });
    expect(tf.memory().numTensors).toBe(before);
    applied.setEnabled(false); // for the whole (asynchronous) generation
    const base = await lm.generate({ inputIds: x, attentionMask: mask }, { maxNewTokens: 5 });
    applied.setEnabled(true);
    const manual = withAdaptersDisabled(lm.root, () => {
      const cache = prefilled(table, 2, 2, 2);
      const m = INPUTS.attentionMask.map((r) => [...r]);
      const out: number[][] = [[], []];
      let inputIds = ids(INPUTS.inputIds);
      let past = 0;
      for (let step = 0; step < 5; step++) {
        const t = inputIds.shape[1]!;
        const tokens = argmaxLast(
          rows<number[][][]>(
            lm.forward({ inputIds, attentionMask: widen(m), positionIds: shifted(m, past, t), pastKeyValues: cache }).logits,
          ),
        );
        tokens.forEach((token, b) => out[b]!.push(token));
        past += t;
        m.forEach((r) => r.push(1));
        inputIds = ids(tokens.map((token) => [token]));
      }
      cache.dispose();
      return out;
    });
    expect(generated.sequences).toEqual(manual);
    expect(generated.sequences).not.toEqual(base.sequences);
    tf.dispose([x, mask]);
    lm.dispose();
  });

  test('gradients reach exactly the prefix table (and the MLP with prefix_projection) from a labelled loss', () => {
    for (const config of [prefix(), prefix({ prefix_projection: true, encoder_hidden_size: 6 })]) {
      const lm = new ToyCausalLm({ kvHeads: 2 });
      const applied = prefixTuningMethod.apply(lm.root, config, 'default');
      const trainable = lm.root.namedParameters().filter(([, v]) => v.trainable);
      expect(trainable.map(([n]) => n).sort()).toEqual(
        applied
          .trainableParameters()
          .map(([n]) => n)
          .sort(),
      );
      expect(trainable.every(([n]) => n.startsWith('prompt_encoder.default.'))).toBe(true);
      const [x, labels] = [
        ids(INPUTS.inputIds),
        ids([
          [-100, 3, 4, 5],
          [6, 7, 8, 9],
        ]),
      ];
      const before = tf.memory().numTensors;
      const { value, grads } = tf.variableGrads(
        () => {
          const out = lm.forward({ inputIds: x, labels });
          out.logits.dispose();
          return out.loss as tf.Scalar;
        },
        trainable.map(([, v]) => v),
      );
      for (const [, v] of trainable) expect(tf.tidy(() => tf.sum(tf.abs(grads[v.name]!)).dataSync()[0]!)).toBeGreaterThan(0);
      tf.dispose([value, ...Object.values(grads)]);
      expect(tf.memory().numTensors).toBe(before);
      tf.dispose([x, labels]);
      lm.dispose();
    }
  });

  test('saved as PEFT saves it for CAUSAL_LM; a folder as PEFT writes it loads and gives the hand-built logits', async () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'mmft-prefix-lm-'));
    const lm = new ToyCausalLm({ kvHeads: 2 });
    const config = prefix({ task_type: 'CAUSAL_LM', prefix_projection: true, encoder_hidden_size: 6 });
    const applied = prefixTuningMethod.apply(lm.root, config, 'default');
    await saveAdapter(path.join(dir, 'mmft'), prefixTuningMethod, config, applied, { baseModelNameOrPath: 'toy' });
    const json = await readAdapterConfig(path.join(dir, 'mmft'));
    expect(json).toMatchObject({
      peft_type: 'PREFIX_TUNING',
      task_type: 'CAUSAL_LM',
      num_virtual_tokens: P,
      token_dim: 4,
      num_layers: LAYERS,
      num_attention_heads: 2,
      num_transformer_submodules: 1,
      prefix_projection: true,
      encoder_hidden_size: 6,
      init_weights: null,
      inference_mode: true,
    });
    expect(json).not.toHaveProperty('target_modules');
    lm.dispose();

    // What PEFT's save_pretrained writes for a Llama-like model (adapter_config.json fields of
    // PrefixTuningConfig, one F32 tensor prompt_embeddings).
    const peftDir = path.join(dir, 'peft');
    fs.mkdirSync(peftDir);
    const table = Array.from({ length: P }, (_, p) => Array.from({ length: LAYERS * 2 * 4 }, (_, c) => Math.sin(p * 31 + c) * 0.8));
    fs.writeFileSync(
      path.join(peftDir, 'adapter_config.json'),
      JSON.stringify({
        auto_mapping: null,
        base_model_name_or_path: 'toy',
        encoder_hidden_size: 4,
        inference_mode: true,
        init_weights: null,
        modules_to_save: null,
        num_attention_heads: 2,
        num_layers: LAYERS,
        num_transformer_submodules: 1,
        num_virtual_tokens: P,
        peft_type: 'PREFIX_TUNING',
        peft_version: '0.17.1',
        prefix_projection: false,
        revision: null,
        task_type: 'CAUSAL_LM',
        token_dim: 4,
      }),
    );
    await writeSafetensors(
      path.join(peftDir, 'adapter_model.safetensors'),
      new Map([['prompt_embeddings', { dtype: 'F32', shape: [P, 16], data: Float32Array.from(table.flat()) }]]),
      { format: 'pt' },
    );
    const fresh = new ToyCausalLm({ kvHeads: 2 });
    const { applied: loaded } = await loadAdapter(peftDir, fresh.root, [prefixTuningMethod as PeftMethodProvider]);
    expect(rows<number[][]>(tf.clone(loaded.adapterStateDict().get('prompt_embeddings')!))[1]![5]).toBeCloseTo(table[1]![5]!, 6);
    const x = ids([[3, 4, 5]]);
    const got = rows<number[][][]>(fresh.forward({ inputIds: x }).logits);
    const cache = prefilled(table, 1, 2, 2);
    const manual = rows<number[][][]>(
      withAdaptersDisabled(
        fresh.root,
        () =>
          fresh.forward({ inputIds: x, attentionMask: widen([[1, 1, 1]]), positionIds: shifted([[1, 1, 1]], 0, 3), pastKeyValues: cache })
            .logits,
      ),
    );
    manual[0]!.forEach((r, t) => r.forEach((v, j) => expect(got[0]![t]![j]).toBeCloseTo(v, 5)));
    cache.dispose();
    x.dispose();
    fresh.dispose();
  });

  test('init_weights "zero" starts from a zero table; target_modules and mixing with prompt tuning are refused', () => {
    const lm = new ToyCausalLm({ kvHeads: 2 });
    const applied = prefixTuningMethod.apply(lm.root, prefix({ init_weights: 'zero' }), 'default');
    expect(Array.from(applied.adapterStateDict().get('prompt_embeddings')!.dataSync()).every((v) => v === 0)).toBe(true);
    expect(() => promptTuningMethod.apply(lm.root, prompt(), 'other')).toThrow(
      /already has the prefix-tuning adapter "default"; one model runs one prompt-learning method at a time/,
    );
    expect(() => prefixTuningMethod.apply(new ToyCausalLm().root, prefix({ target_modules: ['q_proj'] }), 'default')).toThrow(
      /target_modules \["q_proj"\] does not apply to a causal language model/,
    );
    lm.dispose();
  });

  test('two prefix adapters: each alone, both in order, switched by setEnabled', () => {
    const lm = new ToyCausalLm({ kvHeads: 2 });
    const a = prefixTuningMethod.apply(lm.root, prefix({ num_virtual_tokens: 2, seed: 1 }), 'a');
    const b = prefixTuningMethod.apply(lm.root, prefix({ num_virtual_tokens: 1, seed: 2 }), 'b');
    const x = ids([[3, 4, 5]]);
    const logits = () => rows<number[][][]>(lm.forward({ inputIds: x }).logits);
    const both = logits();
    b.setEnabled(false);
    const onlyA = logits();
    const ta = rows<number[][]>(tf.clone(a.adapterStateDict().get('prompt_embeddings')!));
    const tb = rows<number[][]>(tf.clone(b.adapterStateDict().get('prompt_embeddings')!));
    b.setEnabled(true);
    // by hand: a's two prefix positions, then b's one
    const cacheOf = (tables: number[][][]) => {
      const cache = new DynamicCache();
      for (let l = 0; l < LAYERS; l++) {
        const kv = (which: 0 | 1) =>
          tf.tensor4d([
            [0, 1].map((h) => tables.flatMap((t) => t.map((row) => [0, 1].map((j) => row[((2 * l + which) * 2 + h) * 2 + j]!)))),
          ]);
        const [k, v] = [kv(0), kv(1)];
        cache.update(l, k, v);
        tf.dispose([k, v]);
      }
      return cache;
    };
    const byHand = (tables: number[][][]) =>
      withAdaptersDisabled(lm.root, () => {
        const cache = cacheOf(tables);
        const n = tables.reduce((s, t) => s + t.length, 0);
        const out = rows<number[][][]>(
          lm.forward({
            inputIds: x,
            attentionMask: ids([[...Array(n).fill(1), 1, 1, 1]]),
            positionIds: ids([[n, n + 1, n + 2]]),
            pastKeyValues: cache,
          }).logits,
        );
        cache.dispose();
        return out;
      });
    const close = (a1: number[][][], b1: number[][][]) =>
      a1[0]!.forEach((r, t) => r.forEach((v, j) => expect(v).toBeCloseTo(b1[0]![t]![j]!, 5)));
    close(both, byHand([ta, tb]));
    close(onlyA, byHand([ta]));
    b.remove();
    close(logits(), byHand([ta]));
    a.remove();
    expect(lm.promptSource).toBeUndefined();
    x.dispose();
    lm.dispose();
  });
});

describe('prompt tuning on a causal LM', () => {
  test('logits [B, P+T, V] and the loss equal the base fed [virtual; embedded] with P mask ones and P leading -100 labels', () => {
    const lm = new ToyCausalLm({ kvHeads: 2 });
    const applied = promptTuningMethod.apply(lm.root, prompt(), 'default');
    expect(applied.adapterConfigExtras!()).toEqual({ token_dim: DIM, num_layers: LAYERS, num_attention_heads: 4 });
    const virtual = applied.adapterStateDict().get('prompt_embeddings')!;
    expect(virtual.shape).toEqual([P, DIM]);
    const [x, mask, labels] = [
      ids(INPUTS.inputIds),
      ids(INPUTS.attentionMask),
      ids([
        [-100, 3, 4, 5],
        [6, 7, 8, 9],
      ]),
    ];
    const out = lm.forward({ inputIds: x, attentionMask: mask, labels });
    expect(out.logits.shape).toEqual([2, P + 4, VOCAB]);
    const padded = ids([
      [-100, -100, -100, -100, 3, 4, 5],
      [-100, -100, -100, 6, 7, 8, 9],
    ]);
    const manual = withAdaptersDisabled(lm.root, () => {
      const embeds = tf.tidy(() => tf.concat([tf.stack([virtual, virtual]), lm.embedTokens(x)], 1));
      try {
        return lm.forward({ inputsEmbeds: embeds, attentionMask: widen(INPUTS.attentionMask), labels: padded });
      } finally {
        embeds.dispose();
      }
    });
    const [got, want] = [rows<number[][][]>(out.logits), rows<number[][][]>(manual.logits)];
    want.forEach((r, b) => r.forEach((row, t) => row.forEach((v, j) => expect(got[b]![t]![j]).toBeCloseTo(v, 5))));
    expect(out.loss!.dataSync()[0]).toBeCloseTo(manual.loss!.dataSync()[0]!, 5);
    const check = causalLmLoss(tf.tensor3d(got), padded);
    expect(check.dataSync()[0]).toBeCloseTo(out.loss!.dataSync()[0]!, 5);
    tf.dispose([x, mask, labels, padded, out.loss!, manual.loss!, check]);
    lm.dispose();
  });

  test('greedy generate() equals decoding by hand whose first step is the base fed [virtual; embedded]', async () => {
    const lm = new ToyCausalLm({ kvHeads: 2 });
    const applied = promptTuningMethod.apply(lm.root, prompt(), 'default');
    const virtual = applied.adapterStateDict().get('prompt_embeddings')!;
    const [x, mask] = [ids(INPUTS.inputIds), ids(INPUTS.attentionMask)];
    const before = tf.memory().numTensors;
    const generated = await lm.generate({ inputIds: x, attentionMask: mask }, { maxNewTokens: 4 });
    expect(tf.memory().numTensors).toBe(before);
    const manual = withAdaptersDisabled(lm.root, () => {
      const cache = new DynamicCache();
      const m = INPUTS.attentionMask.map((r) => [...Array(P).fill(1), ...r]);
      const out: number[][] = [[], []];
      let inputs: { inputIds?: tf.Tensor; inputsEmbeds?: tf.Tensor } = {
        inputsEmbeds: tf.tidy(() => tf.concat([tf.stack([virtual, virtual]), lm.embedTokens(x)], 1)),
      };
      for (let step = 0; step < 4; step++) {
        const tokens = argmaxLast(rows<number[][][]>(lm.forward({ ...inputs, attentionMask: ids(m), pastKeyValues: cache }).logits));
        tokens.forEach((token, b) => out[b]!.push(token));
        m.forEach((r) => r.push(1));
        inputs = { inputIds: ids(tokens.map((token) => [token])) };
      }
      cache.dispose();
      return out;
    });
    expect(generated.sequences).toEqual(manual);
    tf.dispose([x, mask]);
    lm.dispose();
  });

  test('token_dim is the embedding width; target_modules is refused on a causal LM', () => {
    expect(() => promptTuningMethod.apply(new ToyCausalLm().root, prompt({ token_dim: 5 }), 'default')).toThrow(
      /token_dim is 5 in the config but the targeted model has 8/,
    );
    expect(() => promptTuningMethod.apply(new ToyCausalLm().root, prompt({ target_modules: ['model'] }), 'default')).toThrow(
      /target_modules \["model"\] does not apply to a causal language model/,
    );
  });
});
