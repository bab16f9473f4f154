// OPTForCausalLM against an independent plain-JS forward (testing/reference-opt.ts): logits in the pre-
// and post-LayerNorm variants and with project_in/out, the loss, KV-cache decoding, left padding,
// inputs_embeds, and the module tree's names and shapes against HF's list.
import '@tensorflow/tfjs-backend-cpu';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import * as tf from '@tensorflow/tfjs-core';
import { afterAll, beforeAll, describe, expect, test } from '@jest/globals';
import { DynamicCache, positionIdsFromMask, registerGradients } from '@mmft/core/nn';
import { OPTForCausalLM } from './opt-model';
import { referenceCausalLmLoss, referenceOptLogits, type ReferenceOptConfig } from './testing/reference-opt';
import { createTinyOptCheckpoint, optTensorShapes, type TinyOptCheckpoint, type TinyOptOptions } from './testing/tiny-checkpoint';

let tmp: string;
beforeAll(async () => {
  await tf.setBackend('cpu');
  registerGradients();
  tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'mmft-opt-'));
});
afterAll(() => fs.rmSync(tmp, { recursive: true, force: true }));

let folders = 0;
async function tiny(options: TinyOptOptions): Promise<{ ckpt: TinyOptCheckpoint; model: OPTForCausalLM; ref: ReferenceOptConfig }> {
  folders += 1;
  const ckpt = await createTinyOptCheckpoint(path.join(tmp, `m${folders}`), options);
  const model = await OPTForCausalLM.fromPretrained(ckpt.dir);
  return { ckpt, model, ref: model.config };
}

const ids2d = (rows: number[][]) => tf.tensor2d(rows, undefined, 'int32');

/** max |a − b| over the positions where `keep` is 1. */
function maxDiff(actual: number[][][], expected: number[][][], keep?: number[][]): number {
  let worst = 0;
  actual.forEach((rows, b) =>
    rows.forEach((row, t) => {
      if (keep && keep[b]![t] === 0) return;
      row.forEach((v, i) => (worst = Math.max(worst, Math.abs(v - expected[b]![t]![i]!))));
    }),
  );
  return worst;
}

const VARIANTS: Array<[string, TinyOptOptions]> = [
  ['pre-LN, 1 layer', { num_hidden_layers: 1, seed: 1 }],
  ['pre-LN, 2 layers', { num_hidden_layers: 2, seed: 2 }],
  ['post-LN (opt-350m style) with project_in/out, 2 layers', { do_layer_norm_before: false, word_embed_proj_dim: 8, seed: 3 }],
  ['pre-LN with project_in/out and an untied head', { word_embed_proj_dim: 12, tie_word_embeddings: false, seed: 4 }],
  [
    'no biases, LayerNorms without affine, final LayerNorm removed',
    { enable_bias: false, layer_norm_elementwise_affine: false, _remove_final_layer_norm: true, seed: 5 },
  ],
];

describe('OPTForCausalLM logits equal the plain-JS reference', () => {
  test.each(VARIANTS)('%s', async (_name, options) => {
    const { ckpt, model, ref } = await tiny(options);
    try {
      // Row 1 is right-padded: its pad queries still see the real keys before them.
      const rows = [
        [2, 40, 41, 42, 43, 44],
        [2, 50, 51, 1, 1, 1],
      ];
      const mask = [
        [1, 1, 1, 1, 1, 1],
        [1, 1, 1, 0, 0, 0],
      ];
      const [inputIds, attentionMask] = [ids2d(rows), ids2d(mask)];
      const { logits } = model.forward({ inputIds, attentionMask });
      expect(logits.shape).toEqual([2, 6, ckpt.config.vocab_size]);
      const expected = referenceOptLogits(ref, ckpt.tensors, rows, mask);
      expect(maxDiff(logits.arraySync() as number[][][], expected)).toBeLessThan(2e-4);
      tf.dispose([inputIds, attentionMask, logits]);
    } finally {
      model.dispose();
    }
  });
});

describe('OPTForCausalLM', () => {
  let model: OPTForCausalLM;
  let ckpt: TinyOptCheckpoint;
  let ref: ReferenceOptConfig;
  beforeAll(async () => ({ model, ckpt, ref } = await tiny({ num_hidden_layers: 2, word_embed_proj_dim: 8, seed: 7 })));
  afterAll(() => model.dispose());

  test('the loss is the mean over label tokens of −log p(label[t + 1] | ≤ t), -100 ignored; / numItemsInBatch when given', () => {
    const rows = [
      [2, 30, 31, 32, 33],
      [2, 60, 61, 62, 1],
    ];
    const mask = [
      [1, 1, 1, 1, 1],
      [1, 1, 1, 1, 0],
    ];
    const labels = [
      [-100, -100, 31, 32, 33],
      [-100, 60, 61, 62, -100],
    ];
    const inputs = { inputIds: ids2d(rows), attentionMask: ids2d(mask), labels: ids2d(labels) };
    const expectedLogits = referenceOptLogits(ref, ckpt.tensors, rows, mask);
    const { logits, loss } = model.forward(inputs);
    expect(loss!.dataSync()[0]).toBeCloseTo(referenceCausalLmLoss(expectedLogits, labels), 4);
    const summed = model.forward({ ...inputs, numItemsInBatch: 10 });
    expect(summed.loss!.dataSync()[0]).toBeCloseTo(referenceCausalLmLoss(expectedLogits, labels, 10), 4);
    tf.dispose([logits, loss!, summed.logits, summed.loss!, ...Object.values(inputs)]);
  });

  test('KV-cache decoding equals full recomputation, one token or several per step', () => {
    const full = [2, 20, 21, 22, 23, 24, 25];
    const inputIds = ids2d([full]);
    const { logits } = model.forward({ inputIds });
    const expected = logits.arraySync() as number[][][];
    const cache = new DynamicCache();
    const steps: Array<[number, number]> = [
      [0, 3],
      [3, 4],
      [4, 6],
      [6, 7],
    ];
    for (const [from, to] of steps) {
      const chunk = ids2d([full.slice(from, to)]);
      const mask = tf.ones([1, to], 'int32');
      const out = model.forward({ inputIds: chunk, attentionMask: mask, pastKeyValues: cache });
      expect(cache.length).toBe(to);
      const got = out.logits.arraySync() as number[][][];
      expect(maxDiff(got, [expected[0]!.slice(from, to)])).toBeLessThan(1e-4);
      tf.dispose([chunk, mask, out.logits]);
    }
    cache.dispose();
    tf.dispose([inputIds, logits]);
  });

  test("left padding does not change a row's logits (positions restart at the first real token)", () => {
    const alone = [2, 70, 71, 72];
    const a = ids2d([alone]);
    const single = model.forward({ inputIds: a });
    const rows = [
      [1, 1, ...alone],
      [2, 80, 81, 82, 83, 84],
    ];
    const mask = [
      [0, 0, 1, 1, 1, 1],
      [1, 1, 1, 1, 1, 1],
    ];
    const [inputIds, attentionMask] = [ids2d(rows), ids2d(mask)];
    const batch = model.forward({ inputIds, attentionMask });
    const got = batch.logits.arraySync() as number[][][];
    expect(maxDiff([got[0]!.slice(2)], single.logits.arraySync() as number[][][])).toBeLessThan(1e-4);
    // generate() passes positions made from the mask (pads at 1): the real tokens' logits are the same.
    const positionIds = positionIdsFromMask(attentionMask, 0, 6);
    const withPositions = model.forward({ inputIds, attentionMask, positionIds });
    expect(maxDiff(withPositions.logits.arraySync() as number[][][], got, mask)).toBeLessThan(1e-5);
    expect(maxDiff(got, referenceOptLogits(ref, ckpt.tensors, rows, mask), mask)).toBeLessThan(2e-4);
    tf.dispose([a, single.logits, inputIds, attentionMask, batch.logits, positionIds, withPositions.logits]);
  });

  test('inputsEmbeds = embedTokens(ids) gives the logits of the ids (embeddings before project_in)', () => {
    const inputIds = ids2d([[2, 90, 91, 92]]);
    const embeds = model.embedTokens(inputIds);
    expect(embeds.shape).toEqual([1, 4, 8]);
    const a = model.forward({ inputIds });
    const b = model.forward({ inputsEmbeds: embeds });
    expect(maxDiff(b.logits.arraySync() as number[][][], a.logits.arraySync() as number[][][])).toBe(0);
    tf.dispose([inputIds, embeds, a.logits, b.logits]);
    expect(() => model.forward({})).toThrow(/exactly one of inputIds or inputsEmbeds/);
  });

  test('more positions than max_position_embeddings is an error naming the limit', () => {
    const inputIds = tf.fill([1, 65], 5, 'int32');
    expect(() => model.forward({ inputIds })).toThrow(/65 positions .* exceed max_position_embeddings 64/);
    inputIds.dispose();
  });

  test('forward, loss and cached decoding leave no tensors behind', () => {
    const inputIds = ids2d([[2, 10, 11, 12]]);
    const labels = ids2d([[-100, 10, 11, 12]]);
    const before = tf.memory().numTensors;
    for (let i = 0; i < 2; i++) {
      const { logits, loss } = model.forward({ inputIds, labels });
      tf.dispose([logits, loss!]);
      const cache = new DynamicCache();
      const first = model.forward({ inputIds, pastKeyValues: cache });
      const next = ids2d([[13]]);
      const mask = tf.ones([1, 5], 'int32');
      const second = model.forward({ inputIds: next, attentionMask: mask, pastKeyValues: cache });
      tf.dispose([first.logits, second.logits, next, mask]);
      cache.dispose();
    }
    expect(tf.memory().numTensors).toBe(before);
    tf.dispose([inputIds, labels]);
  });
});

describe('the module tree carries HF state-dict names and shapes', () => {
  const shapes = {
    vocab_size: 48,
    hidden_size: 16,
    num_hidden_layers: 2,
    num_attention_heads: 4,
    ffn_dim: 32,
    max_position_embeddings: 20,
    do_layer_norm_before: true,
    word_embed_proj_dim: 16,
    enable_bias: true,
    layer_norm_elementwise_affine: true,
    tie_word_embeddings: true,
    _remove_final_layer_norm: false,
  };
  test.each([
    ['pre-LN, tied', {}],
    ['post-LN with projections', { do_layer_norm_before: false, word_embed_proj_dim: 8 }],
    ['untied, no biases, no affine', { tie_word_embeddings: false, enable_bias: false, layer_norm_elementwise_affine: false }],
  ])('%s', (_name, overrides) => {
    const config = { ...shapes, ...overrides };
    const model = OPTForCausalLM.fromConfig(config, { seed: 0 });
    try {
      const state = model.root.stateDict();
      const names = model.root.namedParameters().map(([n]) => n);
      const expected = optTensorShapes(config);
      // HF's order, and exactly HF's tensors (the tied head is the embedding, listed once).
      expect(names).toEqual(expected.map(([n]) => n));
      for (const [name, shape] of expected) expect([name, state.get(name)!.shape]).toEqual([name, shape]);
      const embed = state.get('model.decoder.embed_tokens.weight')!;
      expect(state.get('lm_head.weight') === embed).toBe(config.tie_word_embeddings);
      // nn.Embedding(padding_idx=1) starts the pad row at zero; the position table keeps every max + 2 rows.
      expect(Array.from(tf.slice(embed, [1, 0], [1, -1]).dataSync()).every((v) => v === 0)).toBe(true);
      expect(state.get('model.decoder.embed_positions.weight')!.shape).toEqual([22, 16]);
    } finally {
      model.dispose();
    }
  });

  test('fromConfig with a seed is reproducible; a gradient step through the tied head moves the embeddings', () => {
    const a = OPTForCausalLM.fromConfig({ ...shapes, num_hidden_layers: 1 }, { seed: 3 });
    const b = OPTForCausalLM.fromConfig({ ...shapes, num_hidden_layers: 1 }, { seed: 3 });
    try {
      for (const [name, v] of a.root.stateDict())
        expect([name, Array.from(v.dataSync())]).toEqual([name, Array.from(b.root.stateDict().get(name)!.dataSync())]);
      const inputIds = ids2d([[2, 5, 6]]);
      const embed = a.root.stateDict().get('model.decoder.embed_tokens.weight')!;
      const { grads, value } = tf.variableGrads(() => a.forward({ inputIds, labels: inputIds }).loss as tf.Scalar, [embed]);
      // Row 7 is never an input, so only the head (logits = h · Eᵀ) gives it a gradient.
      expect(tf.max(tf.abs(tf.slice(grads[embed.name]!, [7, 0], [1, -1]))).dataSync()[0]).toBeGreaterThan(0);
      tf.dispose([inputIds, value, ...Object.values(grads)]);
    } finally {
      a.dispose();
      b.dispose();
    }
  });
});
