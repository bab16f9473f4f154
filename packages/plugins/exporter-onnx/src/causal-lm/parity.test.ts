// Exported decoders against the tfjs models they came from (tiny Llama, OPT and GPT-2 shapes built
// from core's nn blocks): prompt logits of a left-padded batch of two within 1e-4, greedy decoding
// through the KV cache token for token equal to generate(), and every cached step's logits equal to
// a full forward over the same tokens.
import { afterAll, beforeAll, describe, expect, test } from '@jest/globals';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import * as tf from '@tensorflow/tfjs-core';
import { ensureBackend } from '@mmft/core';
import type { CausalLMBase } from '@mmft/core/lm';
import { decoderLogits, exportCausalLm, greedyDecodeOnnx } from './index';
import { tinyGpt2, tinyLlama, tinyOpt } from './tiny-decoders.fixture';

let dir: string;
beforeAll(async () => {
  await ensureBackend();
  dir = fs.mkdtempSync(path.join(os.tmpdir(), 'mmft-onnx-causal-'));
});
afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));

const PROMPTS = [
  [0, 0, 5, 17, 9, 30],
  [11, 3, 25, 7, 19, 4],
];
const MASK = [
  [0, 0, 1, 1, 1, 1],
  [1, 1, 1, 1, 1, 1],
];
const NEW_TOKENS = 8;

/** max |a − b| over the positions where `mask` is 1 ([rows, length, vocab] both). */
function maxDiffOnReal(a: Float32Array, b: Float32Array, mask: number[][], vocab: number): number {
  let max = 0;
  mask.forEach((row, r) =>
    row.forEach((m, t) => {
      if (m === 0) return;
      const at = (r * row.length + t) * vocab;
      for (let v = 0; v < vocab; v++) max = Math.max(max, Math.abs(a[at + v]! - b[at + v]!));
    }),
  );
  return max;
}

const cases: Array<[string, () => CausalLMBase<Record<string, unknown>>]> = [
  ['llama, grouped-query attention', () => tinyLlama()],
  [
    'llama, linear rope_scaling, biases, tied head',
    () =>
      tinyLlama({
        rope_scaling: { rope_type: 'linear', factor: 2 },
        attention_bias: true,
        mlp_bias: true,
        tie_word_embeddings: true,
        num_key_value_heads: 4,
      }),
  ],
  ['opt, pre-LN, tied head', () => tinyOpt()],
  [
    'opt, post-LN with project_in/out (opt-350m), untied head',
    () => tinyOpt({ do_layer_norm_before: false, word_embed_proj_dim: 8, tie_word_embeddings: false }),
  ],
  ['opt, LayerNorm without affine, gelu', () => tinyOpt({ layer_norm_elementwise_affine: false, activation_function: 'gelu' })],
  ['gpt2, tied head', () => tinyGpt2()],
  [
    'gpt2, scale_attn_by_inverse_layer_idx, untied, exact gelu',
    () => tinyGpt2({ scale_attn_by_inverse_layer_idx: true, tie_word_embeddings: false, activation_function: 'gelu' }),
  ],
];

describe.each(cases)('%s', (name, build) => {
  let model: CausalLMBase<Record<string, unknown>>;
  let file: string;
  beforeAll(async () => {
    model = build();
    file = (await exportCausalLm(model, path.join(dir, name.replace(/\W+/g, '-')))).model;
  });
  afterAll(() => model.dispose());

  test('prompt logits of a left-padded batch match the tfjs model within 1e-4', async () => {
    const onnx = await decoderLogits(file, PROMPTS, MASK);
    const ids = tf.tensor2d(PROMPTS, [2, 6], 'int32');
    const mask = tf.tensor2d(MASK, [2, 6], 'int32');
    const logits = model.forward({ inputIds: ids, attentionMask: mask }).logits;
    const expected = logits.dataSync() as Float32Array;
    tf.dispose([ids, mask, logits]);
    expect(onnx.dims).toEqual([2, 6, 40]);
    expect(maxDiffOnReal(onnx.data, expected, MASK, 40)).toBeLessThanOrEqual(1e-4);
  });

  test('greedy decoding through the KV cache gives generate()’s tokens, each step’s logits those of a full forward', async () => {
    const ids = tf.tensor2d(PROMPTS, [2, 6], 'int32');
    const mask = tf.tensor2d(MASK, [2, 6], 'int32');
    const { sequences } = await model.generate({ inputIds: ids, attentionMask: mask }, { maxNewTokens: NEW_TOKENS, eosTokenId: [] });
    tf.dispose([ids, mask]);
    const steps: Float32Array[] = [];
    const tokens = await greedyDecodeOnnx(file, PROMPTS, NEW_TOKENS, [], { attentionMask: MASK, onLogits: (l) => steps.push(l) });
    expect(tokens).toEqual(sequences);
    expect(tokens[0]).toHaveLength(NEW_TOKENS);

    // Step s predicted position 5 + s from the cache; the tfjs model over the whole sequence at once must agree.
    const full = PROMPTS.map((p, r) => [...p, ...tokens[r]!.slice(0, NEW_TOKENS - 1)]);
    const fullMask = MASK.map((m) => [...m, ...new Array<number>(NEW_TOKENS - 1).fill(1)]);
    const [fi, fm] = [tf.tensor2d(full, [2, full[0]!.length], 'int32'), tf.tensor2d(fullMask, [2, full[0]!.length], 'int32')];
    const logits = model.forward({ inputIds: fi, attentionMask: fm }).logits;
    const all = logits.dataSync() as Float32Array;
    tf.dispose([fi, fm, logits]);
    let max = 0;
    steps.forEach((step, s) => {
      for (let r = 0; r < 2; r++) {
        const at = (r * full[0]!.length + 5 + s) * 40;
        for (let v = 0; v < 40; v++) max = Math.max(max, Math.abs(step[r * 40 + v]! - all[at + v]!));
      }
    });
    expect(steps).toHaveLength(NEW_TOKENS);
    expect(max).toBeLessThanOrEqual(1e-4);
  });
});
