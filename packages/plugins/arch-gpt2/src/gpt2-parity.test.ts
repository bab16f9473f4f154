// GPT2LMHeadModel against the plain-JS reference (src/testing/reference-gpt2.ts) on tiny checkpoints
// written without this package's save: logits for 1–2 layers and the attention-scaling options,
// the loss, KV-cache decoding, left padding, and the checkpoint variants real GPT-2 files come in.
import '@tensorflow/tfjs-backend-cpu';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { afterAll, beforeAll, describe, expect, test } from '@jest/globals';
import * as tf from '@tensorflow/tfjs-core';
import { readSafetensors, writeSafetensors } from '@mmft/core/io';
import { DynamicCache, positionIdsFromMask, registerGradients } from '@mmft/core/nn';
import { GPT2LMHeadModel } from './gpt2-lm-head-model';
import { createTinyGpt2Checkpoint, type TinyGpt2Options } from './testing/tiny-checkpoint';
import { referenceCausalLmLoss, referenceGpt2Logits } from './testing/reference-gpt2';

const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'mmft-gpt2-'));
beforeAll(() => void registerGradients());
afterAll(() => fs.rmSync(tmp, { recursive: true, force: true }));
let folders = 0;

async function tiny(options: TinyGpt2Options = {}) {
  const ckpt = await createTinyGpt2Checkpoint(path.join(tmp, `ckpt-${folders++}`), options);
  const model = await GPT2LMHeadModel.fromPretrained(ckpt.dir);
  return { ...ckpt, model };
}

const ids2d = (rows: number[][]) => tf.tensor2d(rows, undefined, 'int32');
const TOLERANCE = 1e-4;

function expectClose(actual: number[][][], expected: number[][][], skip?: (b: number, t: number) => boolean): void {
  let worst = 0;
  expected.forEach((rows, b) =>
    rows.forEach((row, t) => {
      if (skip?.(b, t)) return;
      row.forEach((v, i) => (worst = Math.max(worst, Math.abs(v - actual[b]![t]![i]!))));
    }),
  );
  expect(worst).toBeLessThan(TOLERANCE);
}

const PROMPTS = [
  [5, 17, 250, 3, 99, 40],
  [120, 7, 7, 64, 201, 11],
];

describe('GPT2LMHeadModel logits equal the plain-JS GPT-2', () => {
  const cases: Array<[string, Record<string, unknown>]> = [
    ['1 layer', { n_layer: 1 }],
    ['2 layers', { n_layer: 2 }],
    ['2 layers, scale_attn_by_inverse_layer_idx', { n_layer: 2, scale_attn_by_inverse_layer_idx: true }],
    ['2 layers, scale_attn_weights false, n_inner 12', { n_layer: 2, scale_attn_weights: false, n_inner: 12 }],
    ['2 layers, untied lm_head', { n_layer: 2, tie_word_embeddings: false }],
  ];
  test.each(cases)('%s', async (_name, config) => {
    const { model, tensors, config: parsed } = await tiny({ seed: 3, config });
    const logits = model.forward({ inputIds: ids2d(PROMPTS) }).logits;
    expect(logits.shape).toEqual([2, 6, parsed.vocab_size]);
    expectClose((await logits.array()) as number[][][], referenceGpt2Logits(parsed, tensors, { ids: PROMPTS }));
    logits.dispose();
    model.dispose();
  });

  test('scale_attn_by_inverse_layer_idx changes layer 1 (the option is not a no-op)', async () => {
    const a = await tiny({ seed: 3, config: { n_layer: 2 } });
    const b = referenceGpt2Logits({ ...a.config, scale_attn_by_inverse_layer_idx: true }, a.tensors, { ids: PROMPTS });
    const plain = referenceGpt2Logits(a.config, a.tensors, { ids: PROMPTS });
    expect(Math.abs(b[0]![5]![0]! - plain[0]![5]![0]!)).toBeGreaterThan(1e-3);
    a.model.dispose();
  });
});

describe('loss, cache, padding', () => {
  test('loss equals mean −log p(next token) over labels ≠ −100 (ForCausalLMLoss)', async () => {
    const { model, tensors, config } = await tiny({ seed: 4 });
    const labels = [
      [5, 17, -100, 3, 99, 40],
      [-100, 7, 7, 64, -100, 11],
    ];
    const out = model.forward({ inputIds: ids2d(PROMPTS), labels: ids2d(labels) });
    const expected = referenceCausalLmLoss(referenceGpt2Logits(config, tensors, { ids: PROMPTS }), labels);
    expect(Math.abs(((await out.loss!.data())[0] as number) - expected)).toBeLessThan(TOLERANCE);
    tf.dispose([out.logits, out.loss!]);
    model.dispose();
  });

  test('KV-cache decoding (one position per call) equals full recomputation', async () => {
    const { model, tensors, config } = await tiny({ seed: 5 });
    const full = referenceGpt2Logits(config, tensors, { ids: PROMPTS });
    const cache = new DynamicCache();
    const prefix = 3;
    const first = model.forward({
      inputIds: ids2d(PROMPTS.map((r) => r.slice(0, prefix))),
      attentionMask: tf.ones([2, prefix], 'int32'),
      pastKeyValues: cache,
    }).logits;
    const steps: number[][][] = (await first.array()) as number[][][];
    first.dispose();
    for (let t = prefix; t < 6; t++) {
      expect(cache.length).toBe(t);
      const mask = tf.ones([2, t + 1], 'int32');
      const step = model.forward({ inputIds: ids2d(PROMPTS.map((r) => [r[t]!])), attentionMask: mask, pastKeyValues: cache }).logits;
      expect(step.shape).toEqual([2, 1, config.vocab_size]);
      const rows = (await step.array()) as number[][][];
      rows.forEach((r, b) => steps[b]!.push(r[0]!));
      tf.dispose([mask, step]);
    }
    expectClose(steps, full);
    cache.dispose();
    model.dispose();
  });

  test('left padding with positions from the mask does not change a row’s logits', async () => {
    const { model, tensors, config } = await tiny({ seed: 6 });
    const short = [250, 3, 99, 40];
    const padded = [[0, 0, ...short], PROMPTS[1]!];
    const maskRows = [
      [0, 0, 1, 1, 1, 1],
      [1, 1, 1, 1, 1, 1],
    ];
    const mask = tf.tensor2d(maskRows, undefined, 'int32');
    const positionIds = positionIdsFromMask(mask, 0, 6);
    const logits = model.forward({ inputIds: ids2d(padded), attentionMask: mask, positionIds }).logits;
    const got = (await logits.array()) as number[][][];
    const alone = referenceGpt2Logits(config, tensors, { ids: [short] })[0]!;
    expectClose([got[0]!.slice(2)], [alone]);
    expectClose([got[1]!], [referenceGpt2Logits(config, tensors, { ids: [PROMPTS[1]!] })[0]!]);
    // The reference with the same mask and positions agrees at every real position as well.
    const refPadded = referenceGpt2Logits(config, tensors, {
      ids: padded,
      attentionMask: maskRows,
      positionIds: (await positionIds.array()) as number[][],
    });
    expectClose(got, refPadded, (b, t) => maskRows[b]![t] === 0);
    tf.dispose([mask, positionIds, logits]);
    model.dispose();
  });

  test('without positionIds, positions are past + 0…T-1 as GPT2Model.forward makes them', async () => {
    const { model, tensors, config } = await tiny({ seed: 6 });
    const mask = tf.tensor2d([[0, 1, 1, 1, 1, 1]], undefined, 'int32');
    const logits = model.forward({ inputIds: ids2d([PROMPTS[0]!]), attentionMask: mask }).logits;
    const expected = referenceGpt2Logits(config, tensors, {
      ids: [PROMPTS[0]!],
      attentionMask: [[0, 1, 1, 1, 1, 1]],
      positionIds: [[0, 1, 2, 3, 4, 5]],
    });
    expectClose((await logits.array()) as number[][][], expected, (_b, t) => t === 0);
    tf.dispose([mask, logits]);
    model.dispose();
  });

  test('inputsEmbeds = embedTokens(ids) gives the logits of ids', async () => {
    const { model } = await tiny({ seed: 7 });
    const ids = ids2d(PROMPTS);
    const embeds = model.embedTokens(ids);
    const a = model.forward({ inputIds: ids }).logits;
    const b = model.forward({ inputsEmbeds: embeds }).logits;
    expect(Array.from(await b.data())).toEqual(Array.from(await a.data()));
    tf.dispose([ids, embeds, a, b]);
    model.dispose();
  });
});

describe('dropout in training mode', () => {
  test('masks repeat from one model build to the next (seeded by place), and change the logits', async () => {
    const logits = async () => {
      const { model } = await tiny({ seed: 6, config: { attn_pdrop: 0.5, resid_pdrop: 0.5, embd_pdrop: 0.5 } });
      model.root.train(true);
      const out = model.forward({ inputIds: ids2d([[1, 2, 3, 4]]) });
      const values = Array.from(out.logits!.dataSync());
      model.root.train(false);
      const plain = Array.from(model.forward({ inputIds: ids2d([[1, 2, 3, 4]]) }).logits!.dataSync());
      model.dispose();
      return { values, plain };
    };
    const a = await logits();
    const b = await logits();
    expect(b.values).toEqual(a.values);
    expect(a.values).not.toEqual(a.plain);
  });
});

describe('checkpoint variants', () => {
  test('fp16 and bf16 files load upcast (logits of the rounded values)', async () => {
    for (const dtype of ['F16', 'BF16'] as const) {
      const { model, tensors, config } = await tiny({ seed: 8, dtype });
      const logits = model.forward({ inputIds: ids2d(PROMPTS) }).logits;
      expectClose((await logits.array()) as number[][][], referenceGpt2Logits(config, tensors, { ids: PROMPTS }));
      expect(model.root.stateDict().get('transformer.wte.weight')!.dtype).toBe('float32');
      logits.dispose();
      model.dispose();
    }
  });

  test('legacy attn.bias / attn.masked_bias buffers and keys without "transformer." load as transformers loads them', async () => {
    const { model, tensors, config, dir } = await tiny({ seed: 9, legacyBuffers: true, noPrefix: true });
    const header = fs.readFileSync(path.join(dir, 'model.safetensors')).toString('latin1', 8, 3000);
    expect(header).toContain('"h.0.attn.bias"');
    expect(header).toContain('"h.1.attn.masked_bias"');
    expect(header).not.toContain('transformer.');
    expect(model.loadReport?.unexpected).toEqual([]);
    const logits = model.forward({ inputIds: ids2d(PROMPTS) }).logits;
    expectClose((await logits.array()) as number[][][], referenceGpt2Logits(config, tensors, { ids: PROMPTS }));
    logits.dispose();
    model.dispose();
  });

  test('save → load: lm_head.weight left out (tied), everything else bit-exact, head shares wte', async () => {
    const { model } = await tiny({ seed: 10 });
    const out = path.join(tmp, 'saved');
    await model.save(out);
    const header = fs.readFileSync(path.join(out, 'model.safetensors')).toString('latin1', 8, 4000);
    expect(header).not.toContain('lm_head.weight');
    expect(header).toContain('"transformer.h.0.attn.c_attn.weight":{"dtype":"F32","shape":[8,24]');
    const saved = JSON.parse(fs.readFileSync(path.join(out, 'config.json'), 'utf8')) as Record<string, unknown>;
    expect(saved).toMatchObject({ model_type: 'gpt2', architectures: ['GPT2LMHeadModel'], n_embd: 8, tie_word_embeddings: true });
    const again = await GPT2LMHeadModel.fromPretrained(out);
    const dict = again.root.stateDict();
    expect(dict.get('lm_head.weight')).toBe(dict.get('transformer.wte.weight'));
    for (const [name, v] of model.root.stateDict()) expect(Array.from(await dict.get(name)!.data())).toEqual(Array.from(await v.data()));
    const [a, b] = [model.forward({ inputIds: ids2d(PROMPTS) }).logits, again.forward({ inputIds: ids2d(PROMPTS) }).logits];
    expect(Array.from(await b.data())).toEqual(Array.from(await a.data()));
    tf.dispose([a, b]);
    again.dispose();
    model.dispose();
  });

  test('an untied head is saved and loaded as its own tensor', async () => {
    const { model, tensors } = await tiny({ seed: 11, config: { tie_word_embeddings: false } });
    const dict = model.root.stateDict();
    expect(dict.get('lm_head.weight')).not.toBe(dict.get('transformer.wte.weight'));
    expect(Array.from(await dict.get('lm_head.weight')!.data())).toEqual(Array.from(tensors.get('lm_head.weight')!.data));
    const out = path.join(tmp, 'saved-untied');
    await model.save(out);
    expect(fs.readFileSync(path.join(out, 'model.safetensors')).toString('latin1', 8, 4000)).toContain('"lm_head.weight"');
    model.dispose();
  });

  test('a missing or mis-shaped tensor is an error naming it', async () => {
    const { dir } = await tiny({ seed: 12 });
    const file = await readSafetensors(path.join(dir, 'model.safetensors'));
    const kept = new Map([...file.tensors].filter(([name]) => name !== 'transformer.h.1.mlp.c_fc.bias'));
    const broken = path.join(tmp, 'broken');
    fs.cpSync(dir, broken, { recursive: true });
    await writeSafetensors(
      path.join(broken, 'model.safetensors'),
      new Map([...kept].map(([n, t]) => [n, { dtype: 'F32' as const, shape: t.shape, data: t.data as Float32Array }])),
    );
    await expect(GPT2LMHeadModel.fromPretrained(broken)).rejects.toThrow(/missing \(1\).*transformer\.h\.1\.mlp\.c_fc\.bias \[32\]/s);
    const config = JSON.parse(fs.readFileSync(path.join(dir, 'config.json'), 'utf8')) as Record<string, unknown>;
    fs.writeFileSync(path.join(broken, 'config.json'), JSON.stringify({ ...config, n_inner: 16 }));
    fs.copyFileSync(path.join(dir, 'model.safetensors'), path.join(broken, 'model.safetensors'));
    await expect(GPT2LMHeadModel.fromPretrained(broken)).rejects.toThrow(
      /transformer\.h\.0\.mlp\.c_fc\.weight: the model has \[8, 16\], .*model\.safetensors has \[8, 32\]/,
    );
  });
});

describe('fromConfig', () => {
  test('HF init (N(0, 0.02), c_proj / sqrt(2·n_layer), zero biases, LN ones), seeded, tied head, training mode', async () => {
    const config = { n_embd: 32, n_head: 4, n_layer: 2, vocab_size: 400, n_positions: 64 };
    const a = GPT2LMHeadModel.fromConfig(config, { seed: 1 });
    const b = GPT2LMHeadModel.fromConfig(config, { seed: 1 });
    const std = async (t: tf.Tensor) => {
      const v = (await t.data()) as Float32Array;
      const mean = v.reduce((s, x) => s + x, 0) / v.length;
      return Math.sqrt(v.reduce((s, x) => s + (x - mean) ** 2, 0) / v.length);
    };
    const dict = a.root.stateDict();
    expect(Math.abs((await std(dict.get('transformer.wte.weight')!)) - 0.02)).toBeLessThan(0.001);
    expect(Math.abs((await std(dict.get('transformer.h.0.mlp.c_fc.weight')!)) - 0.02)).toBeLessThan(0.001);
    expect(Math.abs((await std(dict.get('transformer.h.1.mlp.c_proj.weight')!)) - 0.01)).toBeLessThan(0.0008);
    expect(Math.abs((await std(dict.get('transformer.h.0.attn.c_proj.weight')!)) - 0.01)).toBeLessThan(0.0015);
    expect(Array.from(await dict.get('transformer.h.0.attn.c_attn.bias')!.data()).every((x) => x === 0)).toBe(true);
    expect(Array.from(await dict.get('transformer.ln_f.weight')!.data()).every((x) => x === 1)).toBe(true);
    expect(dict.get('lm_head.weight')).toBe(dict.get('transformer.wte.weight'));
    expect(a.root.namedParameters().map(([n]) => n)).not.toContain('lm_head.weight');
    for (const [name, v] of dict) expect(Array.from(await b.root.stateDict().get(name)!.data())).toEqual(Array.from(await v.data()));
    expect(a.root.training).toBe(true);
    expect(a.numLayers).toBe(2);
    expect(a.generationConfig).toMatchObject({ bos_token_id: 50256, eos_token_id: 50256 });
    a.dispose();
    b.dispose();
  });

  test('training: every parameter gets a gradient, the tied head’s flows into wte', async () => {
    const model = GPT2LMHeadModel.fromConfig(
      { n_embd: 8, n_head: 2, n_layer: 2, vocab_size: 40, n_positions: 8, resid_pdrop: 0, embd_pdrop: 0, attn_pdrop: 0 },
      { seed: 2 },
    );
    const ids = ids2d([[1, 2, 3, 4, 5, 6, 7, 8]]);
    const params = model.root.trainableParameters();
    const { value, grads } = tf.variableGrads(() => model.forward({ inputIds: ids, labels: ids }).loss as tf.Scalar, params);
    for (const [name, v] of model.root.namedParameters()) {
      const g = grads[v.name]!;
      expect({ name, nonzero: (await tf.any(tf.notEqual(g, 0)).data())[0] }).toEqual({ name, nonzero: 1 });
    }
    // wte's gradient includes the head's: rows of ids never input (e.g. 20) still move.
    const wteGrad = grads[model.root.stateDict().get('transformer.wte.weight')!.name]!;
    expect(Math.abs((await tf.sum(tf.abs(tf.slice(wteGrad, [20, 0], [1, 8]))).data())[0]!)).toBeGreaterThan(0);
    tf.dispose([value, ids, ...Object.values(grads)]);
    model.dispose();
  });

  test('forward and dispose leave no tensors behind; cached decoding keeps only the cache', async () => {
    const { model } = await tiny({ seed: 13 });
    const ids = ids2d(PROMPTS);
    const before = tf.memory().numTensors;
    for (let i = 0; i < 2; i++) {
      const out = model.forward({ inputIds: ids, labels: ids });
      tf.dispose([out.logits, out.loss!]);
    }
    expect(tf.memory().numTensors).toBe(before);
    const cache = new DynamicCache();
    tf.dispose(model.forward({ inputIds: ids, pastKeyValues: cache }).logits);
    expect(tf.memory().numTensors).toBe(before + 2 * model.numLayers);
    cache.dispose();
    expect(tf.memory().numTensors).toBe(before);
    ids.dispose();
    const beforeModel = tf.memory().numTensors;
    model.dispose();
    expect(tf.memory().numTensors).toBeLessThan(beforeModel);
  });
});
