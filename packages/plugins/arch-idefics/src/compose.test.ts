// composeIdefics on the repository's part folders (models/clip-shapes-base, a CLIP at 64 px, and
// models/llama-shapes-base, a 4-layer Llama with 4 query and 2 kv heads): with the gates at zero
// the composed model is the Llama on text, its extra `<image>` row is the mean of the old rows,
// and the grouped-query heads are repeated as repeat_kv reads them; saved and loaded back (gates
// opened so the images count) it gives the same logits. repeatKvRows is checked on hand-computed
// cases first (the `<image>` token helpers in packages/core/src/hf/added-tokens.test.ts).
import 'reflect-metadata';
import '@tensorflow/tfjs-backend-cpu';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, test } from '@jest/globals';
import * as tf from '@tensorflow/tfjs-core';
import { clipVisionArchitecture } from '@mmft/arch-clip';
import { llamaProvider } from '@mmft/arch-llama';
import { MmftError, type CausalLanguageModel, type VisionEncoderModel } from '@mmft/core';
import { readSafetensors } from '@mmft/core/io';
import { repeatKvRows } from './added-token';
import { IdeficsForVisionText2Text } from './idefics-for-vision-text2text';
import { ideficsConfigSchema } from './config';
import { ideficsProvider } from './plugin';
import { TINY_PART_MEAN, TINY_PART_STD, writeTinyIdeficsParts } from './testing';
import { tinyIdeficsContext } from './tiny-idefics.test-helper';

const MODELS = join(__dirname, '../../../../models');
const CLIP_DIR = join(MODELS, 'clip-shapes-base');
const LLAMA_DIR = join(MODELS, 'llama-shapes-base');
/**
 * The provider on a recipe section as validateRecipe hands it over: parsed by the section's schema
 * (which must fill no IdeficsConfig default, or the defaults would hide the parts' fields).
 */
const compose = (section: unknown, context: ReturnType<typeof tinyIdeficsContext>) =>
  ideficsProvider.fromConfig(ideficsConfigSchema.parse(section), context) as Promise<IdeficsForVisionText2Text>;
/** Bit-equal values (a loop: jest's deep equality on 10⁵-element arrays takes seconds). */
const sameValues = (a: ArrayLike<number>, b: ArrayLike<number>) =>
  a.length === b.length && Array.prototype.every.call(a, (x: number, i: number) => Object.is(x, b[i]));

describe('composition helpers (hand-computed)', () => {
  test('repeatKvRows: 4 query heads over 2 kv heads of width 1, and 2 rows per head', () => {
    expect(Array.from(repeatKvRows(new Float32Array([1, 2]), 4, 2, 1))).toEqual([1, 1, 2, 2]);
    // kv head 0 = rows [1,2],[3,4]; kv head 1 = rows [5,6],[7,8] (head_dim 2, in 2)
    expect(Array.from(repeatKvRows(new Float32Array([1, 2, 3, 4, 5, 6, 7, 8]), 4, 2, 2))).toEqual([
      1, 2, 3, 4, 1, 2, 3, 4, 5, 6, 7, 8, 5, 6, 7, 8,
    ]);
    // 6 heads over 3 kv: heads 2h and 2h+1 read kv head h.
    expect(Array.from(repeatKvRows(new Float32Array([7, 8, 9]), 6, 3, 1))).toEqual([7, 7, 8, 8, 9, 9]);
  });
});

describe('model: { type: idefics, init: { vision, language_model } }', () => {
  const context = tinyIdeficsContext();
  let model: IdeficsForVisionText2Text;
  let llama: CausalLanguageModel;
  let clip: VisionEncoderModel;
  beforeAll(async () => {
    model = await compose(
      {
        seed: 0,
        config: {
          cross_layer_interval: 2,
          use_resampler: true,
          perceiver_config: { resampler_n_latents: 4, resampler_depth: 1, resampler_n_heads: 2, resampler_head_dim: 16 },
        },
        init: { vision: CLIP_DIR, language_model: LLAMA_DIR },
      },
      context,
    );
    llama = (await llamaProvider.fromPretrained(LLAMA_DIR, {}, context)) as CausalLanguageModel;
    clip = (await clipVisionArchitecture.fromPretrained(CLIP_DIR, {}, context)) as VisionEncoderModel;
  });
  afterAll(() => {
    model.dispose();
    llama.dispose();
    clip.dispose();
  });

  test('config: text fields from the Llama (multi-head), vision_config from the CLIP (its quick_gelu), <image> in one extra row', () => {
    expect(model.config).toMatchObject({
      vocab_size: 654,
      additional_vocab_size: 1,
      hidden_size: 128,
      intermediate_size: 384,
      num_hidden_layers: 4,
      num_attention_heads: 4,
      pad_token_id: 653,
      eos_token_id: 2,
      cross_layer_interval: 2,
      alpha_initializer: 'zeros',
      use_resampler: true,
      vision_config: {
        embed_dim: 128,
        image_size: 64,
        patch_size: 8,
        intermediate_size: 256,
        num_hidden_layers: 4,
        hidden_act: 'quick_gelu',
      },
    });
    expect(model.imageTokenId).toBe(654);
    expect(model.tokenizer!.encode(['a<image>'], { addSpecialTokens: false }).inputIds[0]!.at(-1)).toBe(654);
    expect(model.processor.imageProcessing).toEqual({
      size: 64,
      cropSize: 64,
      mean: clip.processor.imageProcessing!.mean,
      std: clip.processor.imageProcessing!.std,
    });
    const gates = [...model.root.stateDict()].filter(([n]) => /alpha_(cross_attn|dense)$/.test(n));
    expect(gates).toHaveLength(4);
    for (const [, g] of gates) expect(Array.from(g.dataSync())).toEqual([0]);
  });

  test("the vision tower is the CLIP folder's, tensor for tensor", () => {
    const own = model.root.stateDict();
    const source = clip.root.stateDict();
    expect(source.size).toBeGreaterThan(10);
    const differ = [...source].filter(([name, v]) => !sameValues(own.get(`model.${name}`)!.dataSync(), v.dataSync())).map(([n]) => n);
    expect(differ).toEqual([]);
  });

  test('k_proj/v_proj: query head h reads kv head h // 2; the <image> rows are the mean rows', () => {
    const own = model.root.stateDict();
    const source = llama.root.stateDict();
    for (const proj of ['k_proj', 'v_proj']) {
      const kv = source.get(`model.layers.3.self_attn.${proj}.weight`)!.arraySync() as number[][];
      const full = own.get(`model.layers.3.self_attn.${proj}.weight`)!.arraySync() as number[][];
      expect(kv).toHaveLength(64);
      expect(full).toHaveLength(128);
      for (let h = 0; h < 4; h++)
        expect(full.slice(h * 32, (h + 1) * 32)).toEqual(kv.slice(Math.floor(h / 2) * 32, (Math.floor(h / 2) + 1) * 32));
    }
    for (const name of ['model.embed_tokens.weight', 'lm_head.weight']) {
      const rows = source.get(name)!.arraySync() as number[][];
      const grown = own.get(name)!.arraySync() as number[][];
      expect(grown.slice(0, 654)).toEqual(rows);
      const mean = rows[0]!.map((_, j) => rows.reduce((s, r) => s + r[j]!, 0) / rows.length);
      grown[654]!.forEach((x, j) => expect(Math.abs(x - mean[j]!)).toBeLessThan(1e-6));
    }
  });

  test("gates at zero, no images: the Llama's logits (max |diff| <= 1e-5); the <image> column is their mean", () => {
    const ids = [
      [1, 40, 77, 300, 12, 9, 600, 2],
      [1, 5, 653, 100, 101, 102, 103, 104],
    ];
    const [mine, theirs] = tf.tidy(() => {
      const inputIds = tf.tensor2d(ids, [2, 8], 'int32');
      return [model.forward({ inputIds }).logits.arraySync(), llama.forward({ inputIds }).logits.arraySync()] as number[][][][];
    });
    let worst = 0;
    let worstMean = 0;
    for (let b = 0; b < 2; b++) {
      for (let t = 0; t < 8; t++) {
        const row = mine![b]![t]!;
        const ref = theirs![b]![t]!;
        expect(row).toHaveLength(655);
        for (let v = 0; v < 654; v++) worst = Math.max(worst, Math.abs(row[v]! - ref[v]!));
        // lm_head has no bias, so h · mean(rows) is the mean of the 654 logits.
        worstMean = Math.max(worstMean, Math.abs(row[654]! - ref.reduce((s, x) => s + x, 0) / 654));
      }
    }
    expect(worst).toBeLessThanOrEqual(1e-5);
    expect(worstMean).toBeLessThanOrEqual(1e-5);
  });

  test('the section schema fills no default into config (they would hide the parts), and still checks the fields', () => {
    const section = { config: { cross_layer_interval: 1, perceiver_config: { resampler_n_latents: 16 } }, init: { vision: 'v' } };
    expect(ideficsConfigSchema.parse(section).config).toEqual(section.config);
    expect(() => ideficsConfigSchema.parse({ config: { vision_config: { embed_dim: 'x' } } })).toThrow(/embed_dim/);
  });

  test('a language_model folder that is not a Llama is an E_CONFIG error naming it', async () => {
    const failure = compose({ config: {}, init: { language_model: CLIP_DIR } }, context);
    await expect(failure).rejects.toThrow(MmftError);
    await expect(failure).rejects.toThrow(/clip-shapes-base\/config\.json has model_type "clip"; IDEFICS's decoder is a Llama/);
  });
});

describe('composed from tiny part folders, saved and loaded back', () => {
  const context = tinyIdeficsContext();
  let tmp: string;
  let parts: { vision: string; languageModel: string };
  beforeAll(async () => {
    tmp = mkdtempSync(join(tmpdir(), 'idefics-compose-'));
    parts = await writeTinyIdeficsParts(tmp, context, LLAMA_DIR, 654);
  });
  afterAll(() => rmSync(tmp, { recursive: true, force: true }));

  test("the IDEFICS layout (decoupled <image> rows, tokenizer, the tower's mean/std), the same logits with two images, no leak", async () => {
    const section = {
      seed: 4,
      config: {
        use_resampler: true,
        perceiver_config: { resampler_n_latents: 2, resampler_depth: 1, resampler_n_heads: 2, resampler_head_dim: 4 },
      },
      init: { vision: parts.vision, language_model: parts.languageModel },
    };
    const tensorsBefore = tf.memory().numTensors;
    const model = await compose(section, context);
    const dir = join(tmp, 'saved');
    try {
      expect(model.processor.imageProcessing).toEqual({ size: 8, cropSize: 8, mean: [...TINY_PART_MEAN], std: [...TINY_PART_STD] });
      // Open the gates so that the images change the logits and the round trip has to carry the bridge.
      tf.tidy(() => {
        for (const [name, v] of model.root.stateDict()) if (/alpha_(cross_attn|dense)$/.test(name)) v.assign(tf.fill(v.shape, 0.3));
      });
      await model.save(dir);
      const config = JSON.parse(readFileSync(join(dir, 'config.json'), 'utf8')) as Record<string, unknown>;
      expect(config).toMatchObject({
        model_type: 'idefics',
        vocab_size: 654,
        additional_vocab_size: 1,
        hidden_size: 16,
        num_attention_heads: 4,
      });
      const { tensors } = await readSafetensors(join(dir, 'model.safetensors'));
      expect(tensors.get('model.embed_tokens.weight')!.shape).toEqual([654, 16]);
      expect(tensors.get('model.embed_tokens.additional_embedding.weight')!.shape).toEqual([1, 16]);
      expect(tensors.get('lm_head.additional_fc.weight')!.shape).toEqual([1, 16]);
      expect(tensors.get('model.layers.0.self_attn.k_proj.weight')!.shape).toEqual([16, 16]);
      const tokenizer = JSON.parse(readFileSync(join(dir, 'tokenizer.json'), 'utf8')) as {
        added_tokens: Array<{ id: number; content: string }>;
      };
      expect(tokenizer.added_tokens.find((t) => t.content === '<image>')).toMatchObject({ id: 654, special: true });
      const preprocessor = JSON.parse(readFileSync(join(dir, 'preprocessor_config.json'), 'utf8')) as Record<string, unknown>;
      expect(preprocessor).toMatchObject({ image_size: 8, image_mean: [...TINY_PART_MEAN], image_std: [...TINY_PART_STD] });

      const loaded = await IdeficsForVisionText2Text.fromPretrained(dir, {}, context);
      try {
        expect(loaded.imageTokenId).toBe(654);
        expect(loaded.processor.imageProcessing).toEqual(model.processor.imageProcessing);
        const saved = model.root.stateDict();
        const differ = [...loaded.root.stateDict()]
          .filter(([name, v]) => !sameValues(v.dataSync(), saved.get(name)!.dataSync()))
          .map(([n]) => n);
        expect(differ).toEqual([]);
        model.root.eval();
        const [a, b, swapped] = tf.tidy(() => {
          const inputIds = tf.tensor2d([[1, 654, 40, 77, 2, 654, 300, 12]], [1, 8], 'int32');
          const pixelValues = tf.randomUniform([2, 3, 8, 8], -1, 1, 'float32', 11);
          return [
            model.forward({ inputIds, pixelValues }).logits.arraySync(),
            loaded.forward({ inputIds, pixelValues }).logits.arraySync(),
            loaded.forward({ inputIds, pixelValues: tf.reverse(pixelValues, 0) }).logits.arraySync(),
          ] as number[][][][];
        });
        expect(b).toEqual(a);
        // The images are read: the text after the second <image> changes when the images swap.
        expect(Math.max(...swapped![0]![7]!.map((x, v) => Math.abs(x - b![0]![7]![v]!)))).toBeGreaterThan(1e-4);
      } finally {
        loaded.dispose();
      }
    } finally {
      model.dispose();
    }
    // Composing, saving, loading and the forwards leave no tensor behind (the parts are disposed).
    expect(tf.memory().numTensors).toBe(tensorsBefore);
  });
});
