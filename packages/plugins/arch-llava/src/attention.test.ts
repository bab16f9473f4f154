// LlavaForConditionalGeneration.attentionProbabilities on a tiny LLaVA whose language model has real
// self-attention (core's testing tinyAttentionLmProvider): one [B, H, T, T] tensor per text_config layer, the
// image where inputIds hold image_token_index (as many as the image has features), the mask as given
// (ones when absent), and layer 0 equal to a float64 softmax over the scattered input embeddings.
import 'reflect-metadata';
import '@tensorflow/tfjs-backend-cpu';
import { beforeAll, describe, expect, test } from '@jest/globals';
import * as tf from '@tensorflow/tfjs-core';
import { architectureContext, probesAttention } from '@mmft/core';
import { tinyAttentionLmProvider, tinyVisionEncoderProvider } from '@mmft/core/testing';
import { LlavaForConditionalGeneration } from './llava-for-conditional-generation';
import { llavaProvider } from './plugin';
import { tinyLlavaConfig } from './testing';

beforeAll(async () => {
  await tf.setBackend('cpu');
});

const [LAYERS, HEADS, KV_HEADS, WIDTH] = [3, 4, 2, 8];
const IMG = 7;

async function model(): Promise<LlavaForConditionalGeneration> {
  const context = architectureContext({ list: () => [tinyVisionEncoderProvider, tinyAttentionLmProvider, llavaProvider] });
  const config = tinyLlavaConfig({
    text_config: {
      model_type: 'tiny-attn-lm',
      hidden_size: WIDTH,
      num_hidden_layers: LAYERS,
      num_attention_heads: HEADS,
      num_key_value_heads: KV_HEADS,
    },
  });
  return LlavaForConditionalGeneration.fromConfig(config, context, { seed: 3 });
}

// Row 1 is left-padded by two; each row holds one image (4 features with the 'default' strategy).
const IDS = [
  [1, IMG, IMG, IMG, IMG, 20, 21, 22],
  [0, 0, 1, IMG, IMG, IMG, IMG, 23],
];
const MASK = [
  [1, 1, 1, 1, 1, 1, 1, 1],
  [0, 0, 1, 1, 1, 1, 1, 1],
];
const images = () => tf.randomUniform([2, 3, 4, 4], -1, 1, 'float32', 9);

/** Float64 layer-0 probabilities from the input embeddings [B][T][D] and q_proj/k_proj (no bias, no rotary). */
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

describe('LlavaForConditionalGeneration.attentionProbabilities', () => {
  test('one [B, H, T, T] per language-model layer; image positions = image tokens = features; layer 0 = float64 softmax', async () => {
    const llava = await model();
    const pixels = images();
    const inputIds = tf.tensor2d(IDS, undefined, 'int32');
    const attentionMask = tf.tensor2d(MASK, undefined, 'int32');
    try {
      expect(probesAttention(llava)).toBe(true);
      const before = tf.memory().numTensors;
      const out = llava.attentionProbabilities({ inputIds, pixelValues: pixels, attentionMask, labels: inputIds });
      expect(out.probabilities).toHaveLength(LAYERS);
      for (const p of out.probabilities) expect(p.shape).toEqual([2, HEADS, 8, 8]);
      expect(out.imagePositions.map((row) => row.filter(Boolean).length)).toEqual([llava.numImageTokens, llava.numImageTokens]);
      expect(llava.numImageTokens).toBe(4);
      expect(out.imagePositions[1]).toEqual([false, false, false, true, true, true, true, false]);
      expect(out.attentionMask).toEqual(MASK);
      const lm = llava.languageModel;
      const embeds = llava.embedInputs(inputIds, pixels);
      const weights = lm.root.stateDict();
      const wq = weights.get('model.layers.0.self_attn.q_proj.weight')!.arraySync() as number[][];
      const wk = weights.get('model.layers.0.self_attn.k_proj.weight')!.arraySync() as number[][];
      const expected = layerZero(embeds.arraySync() as number[][][], wq, wk, MASK);
      embeds.dispose();
      const got = out.probabilities[0]!.arraySync() as number[][][][];
      const diff = Math.max(...got.flat(3).map((x, i) => Math.abs(x - expected.flat(3)[i]!)));
      expect(diff).toBeLessThan(1e-5);
      for (const p of out.probabilities)
        for (const row of (p.arraySync() as number[][][][]).flat(2)) expect(row.reduce((a, c) => a + c, 0)).toBeCloseTo(1, 5);
      tf.dispose(out.probabilities);
      expect(tf.memory().numTensors).toBe(before);
    } finally {
      tf.dispose([pixels, inputIds, attentionMask]);
      llava.dispose();
    }
  });

  test('without an attention mask every position counts as attended', async () => {
    const llava = await model();
    const pixels = images();
    const inputIds = tf.tensor2d([IDS[0]!], undefined, 'int32');
    const one = tf.slice(pixels, [0], [1]);
    try {
      const out = llava.attentionProbabilities({ inputIds, pixelValues: one });
      expect(out.attentionMask).toEqual([[1, 1, 1, 1, 1, 1, 1, 1]]);
      expect(out.imagePositions).toEqual([[false, true, true, true, true, false, false, false]]);
      expect(out.probabilities).toHaveLength(LAYERS);
      tf.dispose(out.probabilities);
    } finally {
      tf.dispose([pixels, one, inputIds]);
      llava.dispose();
    }
  });
});
