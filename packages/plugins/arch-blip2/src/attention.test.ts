// Blip2ForConditionalGeneration.attentionProbabilities on a tiny BLIP-2 whose language model has real
// self-attention (core's testing tinyAttentionLmProvider), in both input layouts: one [B, H, N, N] tensor per
// text_config layer over the language model's sequence; the image at the image tokens (current) or
// the first num_query_tokens positions (legacy, N = queries + text); the mask the language model
// gets; layer 0 equal to a float64 softmax over the embeddings forward hands the language model.
import 'reflect-metadata';
import '@tensorflow/tfjs-backend-cpu';
import { beforeAll, describe, expect, test } from '@jest/globals';
import * as tf from '@tensorflow/tfjs-core';
import { architectureContext, probesAttention, type ArchitectureProvider } from '@mmft/core';
import { tinyAttentionLmProvider } from '@mmft/core/testing';
import { Blip2ForConditionalGeneration } from './blip2-for-conditional-generation';
import { languageInputs } from './model/language-inputs';
import { blip2Provider } from './plugin';
import { TINY_BLIP2_CONFIG } from './testing';

beforeAll(async () => {
  await tf.setBackend('cpu');
});

const [LAYERS, HEADS, KV_HEADS, WIDTH, QUERIES] = [2, 4, 2, 8, 4];
const IMG = 3;
const context = architectureContext({ list: () => [tinyAttentionLmProvider, blip2Provider as ArchitectureProvider] });

const blip2 = (imageTokenIndex: number | null) =>
  Blip2ForConditionalGeneration.fromConfig(
    {
      ...TINY_BLIP2_CONFIG,
      text_config: {
        model_type: 'tiny-attn-lm',
        hidden_size: WIDTH,
        num_hidden_layers: LAYERS,
        num_attention_heads: HEADS,
        num_key_value_heads: KV_HEADS,
      },
      image_token_index: imageTokenIndex,
    },
    context,
    { seed: 0 },
  );

/** Float64 layer-0 probabilities from the input embeddings [B][N][D] and q_proj/k_proj (no bias, no rotary). */
function layerZero(embeds: number[][][], wq: number[][], wk: number[][], mask: number[][]): number[][][][] {
  const hd = WIDTH / HEADS;
  const project = (w: number[][], x: number[]) => w.map((row) => row.reduce((s, wi, i) => s + wi * x[i]!, 0));
  return embeds.map((rows, b) => {
    const q = rows.map((x) => project(wq, x));
    const k = rows.map((x) => project(wk, x));
    return Array.from({ length: HEADS }, (_, h) => {
      const g = Math.floor(h / (HEADS / KV_HEADS));
      return q.map((qt, t) => {
        const open = k.map((_, s) => s <= t && mask[b]![s] === 1);
        if (!open.some(Boolean)) return k.map(() => 1 / k.length);
        const scores = k.map((ks, s) =>
          open[s] ? qt.slice(h * hd, (h + 1) * hd).reduce((acc, x, i) => acc + x * ks[g * hd + i]!, 0) / Math.sqrt(hd) : -Infinity,
        );
        const max = Math.max(...scores);
        const e = scores.map((x) => Math.exp(x - max));
        const z = e.reduce((a, c) => a + c, 0);
        return e.map((x) => x / z);
      });
    });
  });
}

async function check(layout: {
  imageTokenIndex: number | null;
  ids: number[][];
  mask: number[][];
  positions: boolean[][];
  lmMask: number[][];
}) {
  const model = await blip2(layout.imageTokenIndex);
  const pixelValues = tf.randomUniform([2, 3, 8, 8], -1, 1, 'float32', 4);
  const inputIds = tf.tensor2d(layout.ids, undefined, 'int32');
  const attentionMask = tf.tensor2d(layout.mask, undefined, 'int32');
  try {
    expect(probesAttention(model)).toBe(true);
    const before = tf.memory().numTensors;
    const out = model.attentionProbabilities({ pixelValues, inputIds, attentionMask, labels: inputIds });
    const n = layout.positions[0]!.length;
    expect(out.probabilities).toHaveLength(LAYERS);
    for (const p of out.probabilities) expect(p.shape).toEqual([2, HEADS, n, n]);
    expect(out.imagePositions).toEqual(layout.positions);
    expect(out.imagePositions.map((row) => row.filter(Boolean).length)).toEqual([QUERIES, QUERIES]);
    expect(out.attentionMask).toEqual(layout.lmMask);
    const prepared = languageInputs(model, pixelValues, inputIds, attentionMask, undefined);
    const embeds = prepared.inputsEmbeds.arraySync() as number[][][];
    tf.dispose(prepared.owned);
    const weights = model.languageModel.root.stateDict();
    const wq = weights.get('model.layers.0.self_attn.q_proj.weight')!.arraySync() as number[][];
    const wk = weights.get('model.layers.0.self_attn.k_proj.weight')!.arraySync() as number[][];
    const expected = layerZero(embeds, wq, wk, layout.lmMask).flat(3);
    const got = (out.probabilities[0]!.arraySync() as number[][][][]).flat(3);
    expect(Math.max(...got.map((x, i) => Math.abs(x - expected[i]!)))).toBeLessThan(1e-5);
    tf.dispose(out.probabilities);
    expect(tf.memory().numTensors).toBe(before);
  } finally {
    tf.dispose([pixelValues, inputIds, attentionMask]);
    model.dispose();
  }
}

describe('Blip2ForConditionalGeneration.attentionProbabilities', () => {
  test('current layout: the image tokens are the image positions; the sequence is inputIds', async () => {
    const row = (a: number, b: number) => [IMG, IMG, IMG, IMG, a, b];
    await check({
      imageTokenIndex: IMG,
      ids: [row(20, 21), row(22, 0)],
      mask: [
        [1, 1, 1, 1, 1, 1],
        [1, 1, 1, 1, 1, 0],
      ],
      positions: [0, 1].map(() => [true, true, true, true, false, false]),
      lmMask: [
        [1, 1, 1, 1, 1, 1],
        [1, 1, 1, 1, 1, 0],
      ],
    });
  });

  test('legacy layout: the prepended queries are the image positions; the mask gains their ones', async () => {
    await check({
      imageTokenIndex: null,
      ids: [
        [1, 20, 21],
        [0, 1, 22],
      ],
      mask: [
        [1, 1, 1],
        [0, 1, 1],
      ],
      positions: [0, 1].map(() => [true, true, true, true, false, false, false]),
      lmMask: [
        [1, 1, 1, 1, 1, 1, 1],
        [1, 1, 1, 1, 0, 1, 1],
      ],
    });
  });
});
