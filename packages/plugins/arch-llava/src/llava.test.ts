import 'reflect-metadata';
import '@tensorflow/tfjs-backend-cpu';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, test } from '@jest/globals';
import * as tf from '@tensorflow/tfjs-core';
import { readSafetensors, writeSafetensors } from '@mmft/core/io';
import { LlavaForConditionalGeneration } from './llava-for-conditional-generation';
import { expandImageTokens, numImageTokens } from './processor';
import { projectorShape } from './projector';
import { tinyLlava, tinyLlavaContext, writeTinyLlavaCheckpoint } from './testing';

// ---- an independent float64 LLaVA forward over plain arrays (tiny_vision tower, projector, scatter, tiny-lm) ----
type Mat = number[][];
type Params = Map<string, { shape: number[]; data: Float64Array }>;

function paramsOf(model: LlavaForConditionalGeneration): Params {
  const out: Params = new Map();
  for (const [name, v] of model.root.stateDict()) out.set(name, { shape: [...v.shape], data: Float64Array.from(v.dataSync()) });
  return out;
}
const matrix = (p: Params, name: string): Mat => {
  const { shape, data } = p.get(name)!;
  return Array.from({ length: shape[0]! }, (_, r) => Array.from(data.subarray(r * shape[1]!, (r + 1) * shape[1]!)));
};
const vector = (p: Params, name: string): number[] => Array.from(p.get(name)!.data);
const linear = (x: number[], w: Mat, b?: number[]) => w.map((row, o) => row.reduce((s, wi, i) => s + wi * x[i]!, b ? b[o]! : 0));
function erf(x: number): number {
  if (Math.abs(x) > 5) return Math.sign(x);
  let sum = 0;
  let term = x;
  for (let n = 0; n < 200; n++) {
    sum += term / (2 * n + 1);
    term *= (-x * x) / (n + 1);
  }
  return (2 / Math.sqrt(Math.PI)) * sum;
}
const gelu = (x: number) => 0.5 * x * (1 + erf(x / Math.SQRT2));

/** Hidden states of the tiny_vision tower for one image [3][S][S] (core/src/testing/tiny-vision-encoder.ts's formula). */
function towerStates(p: Params, image: number[][][], patch: number, layers: number): Mat[] {
  const s = image[0]!.length;
  const g = s / patch;
  const patches: number[][] = [];
  for (let gy = 0; gy < g; gy++)
    for (let gx = 0; gx < g; gx++) {
      const v: number[] = [];
      for (let c = 0; c < 3; c++)
        for (let y = 0; y < patch; y++) for (let x = 0; x < patch; x++) v.push(image[c]![gy * patch + y]![gx * patch + x]!);
      patches.push(v);
    }
  const pre = 'vision_tower.vision_model.';
  const w = matrix(p, `${pre}embeddings.patch_embedding.weight`);
  const b = vector(p, `${pre}embeddings.patch_embedding.bias`);
  let h: Mat = [vector(p, `${pre}embeddings.class_embedding`), ...patches.map((x) => linear(x, w, b))];
  const states = [h];
  for (let k = 0; k < layers; k++) {
    const wk = matrix(p, `${pre}encoder.layers.${k}.fc.weight`);
    const bk = vector(p, `${pre}encoder.layers.${k}.fc.bias`);
    h = h.map((x) => linear(x, wk, bk).map((y, i) => x[i]! + Math.tanh(y)));
    states.push(h);
  }
  return states;
}

/** Image features [P][D] of one image: chosen states, CLS dropped with 'default', concatenated, projected. */
function imageFeatures(p: Params, image: number[][][], opts: { layers: number[]; strategy: 'default' | 'full'; depth?: number }): Mat {
  const states = towerStates(p, image, 2, 2);
  const chosen = opts.layers
    .map((l) => states[l < 0 ? states.length + l : l]!)
    .map((st) => (opts.strategy === 'default' ? st.slice(1) : st));
  const concat = chosen[0]!.map((_, i) => chosen.flatMap((st) => st[i]!));
  const depth = opts.depth ?? 2;
  return concat.map((x) => {
    let h = linear(x, matrix(p, 'multi_modal_projector.linear_1.weight'), vector(p, 'multi_modal_projector.linear_1.bias'));
    for (let i = 2; i <= depth; i++)
      h = linear(h.map(gelu), matrix(p, `multi_modal_projector.linear_${i}.weight`), vector(p, `multi_modal_projector.linear_${i}.bias`));
    return h;
  });
}

/** tiny-lm logits (e_t + e_{t−1})·Eᵀ over embedded rows. */
function lmLogits(p: Params, embeds: Mat): Mat {
  const e = matrix(p, 'language_model.model.embed_tokens.weight');
  return embeds.map((x, t) => {
    const h = x.map((v, i) => v + (t > 0 ? embeds[t - 1]![i]! : 0));
    return e.map((row) => row.reduce((s, w, i) => s + w * h[i]!, 0));
  });
}

/** Reference: embeddings with image features scattered in reading order, then logits. */
function referenceLogits(
  p: Params,
  ids: number[][],
  images: number[][][][],
  imageToken: number,
  opts: Parameters<typeof imageFeatures>[2],
): Mat[] {
  const e = matrix(p, 'language_model.model.embed_tokens.weight');
  const features = images.flatMap((img) => imageFeatures(p, img, opts));
  let k = 0;
  return ids.map((row) =>
    lmLogits(
      p,
      row.map((id) => (id === imageToken ? features[k++]! : e[id]!)),
    ),
  );
}

function randomImages(n: number, seed: number): number[][][][] {
  return (tf.randomUniform([n, 3, 4, 4], -1, 1, 'float32', seed).arraySync() as number[][][][]).map((img) => img);
}
const maxDiff = (a: Mat[], b: number[][][]) =>
  Math.max(...a.flatMap((r, i) => r.flatMap((row, t) => row.map((v, j) => Math.abs(v - b[i]![t]![j]!)))));

describe('LlavaForConditionalGeneration (tiny towers)', () => {
  let dir: string;
  beforeAll(() => {
    dir = mkdtempSync(join(tmpdir(), 'llava-'));
  });
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  test('projector shapes: HF two linears, LLaVA builder names', () => {
    expect(projectorShape(undefined, 'gelu')).toEqual({ layers: 2, act: 'gelu' });
    expect(projectorShape('linear', 'gelu')).toEqual({ layers: 1, act: 'gelu' });
    expect(projectorShape('mlp3x_gelu', 'relu')).toEqual({ layers: 3, act: 'gelu' });
    expect(() => projectorShape('mlp2x_relu', 'gelu')).toThrow(/not a LLaVA projector/);
  });

  test('image token count: (S/p)² + CLS − 1 with default, + CLS with full; 576 for llava-1.5', () => {
    expect(numImageTokens({ imageSize: 336, patchSize: 14, hasClassToken: true }, 'default')).toBe(576);
    expect(numImageTokens({ imageSize: 336, patchSize: 14, hasClassToken: true }, 'full')).toBe(577);
    expect(expandImageTokens([[1, 9, 5], [9]], 9, 3, 0)).toEqual({
      inputIds: [
        [1, 9, 9, 9, 5],
        [9, 9, 9, 0, 0],
      ],
      attentionMask: [
        [1, 1, 1, 1, 1],
        [1, 1, 1, 0, 0],
      ],
    });
  });

  test("config defaults are LlavaConfig's; processor carries the placeholder span", async () => {
    const model = await tinyLlava();
    try {
      expect(model.config.vision_feature_select_strategy).toBe('default');
      expect(model.config.projector_hidden_act).toBe('gelu');
      expect(model.config.multimodal_projector_bias).toBe(true);
      expect(model.processor.imageTokens).toEqual({ tokenId: 7, count: 4, placement: 'placeholder' });
      expect(model.processor.towers).toEqual({
        vision: ['vision_tower.**'],
        projector: ['multi_modal_projector.**'],
        language: ['language_model.**'],
      });
      const names = [...model.root.stateDict().keys()];
      for (const n of names) expect(/^(vision_tower|multi_modal_projector|language_model)\./.test(n)).toBe(true);
      expect(model.root.getModule('multi_modal_projector.linear_1').param('weight').shape).toEqual([6, 4]);
    } finally {
      model.dispose();
    }
  });

  const cases: Array<{ name: string; config: Record<string, unknown>; layers: number[]; strategy: 'default' | 'full'; depth?: number }> = [
    { name: 'layer -2, default', config: {}, layers: [-2], strategy: 'default' },
    { name: 'layer 2, full', config: { vision_feature_layer: 2, vision_feature_select_strategy: 'full' }, layers: [2], strategy: 'full' },
    { name: 'layers [0, -1], default', config: { vision_feature_layer: [0, -1] }, layers: [0, -1], strategy: 'default' },
    { name: 'mlp3x_gelu', config: { mm_projector_type: 'mlp3x_gelu' }, layers: [-2], strategy: 'default', depth: 3 },
  ];
  test.each(cases)('forward matches the float64 reference: $name', async ({ config, layers, strategy, depth }) => {
    const model = await tinyLlava(config as never);
    try {
      const count = model.numImageTokens;
      const img = 7;
      // row 0: text, image, text; row 1: two images around text; row 2: no image
      const raw = [
        [1, img, 2, 3],
        [img, 4, img],
        [5, 6, 8, 9],
      ];
      const ids = raw.map((row) => row.flatMap((id) => (id === img ? new Array<number>(count).fill(img) : [id])));
      const width = Math.max(...ids.map((r) => r.length));
      const padded = ids.map((r) => [...r, ...new Array<number>(width - r.length).fill(0)]);
      const images = randomImages(3, 11);
      const out = model.forward({ inputIds: tf.tensor2d(padded, undefined, 'int32'), pixelValues: tf.tensor4d(images) });
      const ref = referenceLogits(paramsOf(model), padded, images, img, { layers, strategy, depth });
      expect(out.logits.shape).toEqual([3, width, model.languageModel.config.vocab_size]);
      expect(maxDiff(ref, out.logits.arraySync() as number[][][])).toBeLessThan(1e-4);
      out.logits.dispose();
    } finally {
      model.dispose();
    }
  });

  test('labels reach the language model unchanged: the loss is the mean shifted cross-entropy of the reference logits', async () => {
    const model = await tinyLlava();
    try {
      const ids = [[1, 7, 7, 7, 7, 2, 3, 4]];
      const labels = [[-100, -100, -100, -100, -100, 2, 3, 4]];
      const images = randomImages(1, 5);
      const { loss } = model.forward({
        inputIds: tf.tensor2d(ids, undefined, 'int32'),
        labels: tf.tensor2d(labels, undefined, 'int32'),
        pixelValues: tf.tensor4d(images),
      });
      const logits = referenceLogits(paramsOf(model), ids, images, 7, { layers: [-2], strategy: 'default' })[0]!;
      let sum = 0;
      let n = 0;
      for (let t = 0; t + 1 < ids[0]!.length; t++) {
        const target = labels[0]![t + 1]!;
        if (target === -100) continue;
        const row = logits[t]!;
        const m = Math.max(...row);
        sum += m + Math.log(row.reduce((s, v) => s + Math.exp(v - m), 0)) - row[target]!;
        n++;
      }
      expect(loss!.dataSync()[0]).toBeCloseTo(sum / n, 4);
    } finally {
      model.dispose();
    }
  });

  test('placeholder/feature mismatch is an E_INPUT error naming the row and both counts', async () => {
    const model = await tinyLlava();
    try {
      const images = tf.tensor4d(randomImages(2, 1));
      // row 1 lost one image token (truncation)
      const ids = tf.tensor2d(
        [
          [7, 7, 7, 7, 1, 1],
          [7, 7, 7, 2, 2, 2],
        ],
        undefined,
        'int32',
      );
      expect(() => model.forward({ inputIds: ids, pixelValues: images })).toThrow(
        /row 1 of inputIds has 3 image tokens \(id 7\); the batch has 7 image tokens but 2 image\(s\) × 4 features = 8 features/,
      );
      // whole spans, but more images than spans
      const one = tf.tensor2d(
        [
          [7, 7, 7, 7, 1],
          [1, 2, 3, 4, 5],
        ],
        undefined,
        'int32',
      );
      expect(() => model.forward({ inputIds: one, pixelValues: images })).toThrow(/4 image tokens but 2 image\(s\) × 4 features = 8/);
      // image tokens without pixels
      expect(() => model.forward({ inputIds: one })).toThrow(/E_INPUT|0 image\(s\)/);
      try {
        model.forward({ inputIds: ids, pixelValues: images });
      } catch (error) {
        expect((error as { code?: string }).code).toBe('E_INPUT');
      }
    } finally {
      model.dispose();
    }
  });

  test.each(['hub', 'transformers'] as const)('loads the %s key layout with the same outputs', async (layout) => {
    const sub = join(dir, layout);
    await writeTinyLlavaCheckpoint(sub, { layout, seed: 9 });
    const keys = [...(await readSafetensors(join(sub, 'model.safetensors'))).tensors.keys()];
    if (layout === 'transformers') {
      expect(keys).toContain('model.language_model.embed_tokens.weight');
      expect(keys).toContain('model.multi_modal_projector.linear_1.weight');
      expect(keys.some((k) => k.startsWith('language_model.'))).toBe(false);
    } else {
      expect(keys).toContain('language_model.model.embed_tokens.weight');
      expect(keys).toContain('vision_tower.vision_model.embeddings.class_embedding');
    }
    const fresh = await tinyLlava({}, 9);
    const loaded = await LlavaForConditionalGeneration.fromPretrained(sub, {}, tinyLlavaContext());
    try {
      expect(loaded.loadReport?.layout).toBe(layout);
      const inputs = { inputIds: tf.tensor2d([[1, 7, 7, 7, 7, 2]], undefined, 'int32'), pixelValues: tf.tensor4d(randomImages(1, 2)) };
      const a = fresh.forward(inputs).logits.arraySync() as number[][][];
      const b = loaded.forward(inputs).logits.arraySync() as number[][][];
      expect(maxDiff(a as never, b)).toBe(0);
    } finally {
      fresh.dispose();
      loaded.dispose();
    }
  });

  test('checkpointKeyName renames transformers ≥ 4.52 keys and module names to the Hub tree; Hub names pass through', async () => {
    const src = join(dir, 'names');
    await writeTinyLlavaCheckpoint(src, { layout: 'hub', seed: 2 });
    const model = await LlavaForConditionalGeneration.fromPretrained(src, {}, tinyLlavaContext());
    try {
      const base = model.languageModel.root
        .namedChildren()
        .map(([n]) => n)
        .find((n) => n !== 'lm_head')!;
      const cases: Array<[string, string]> = [
        ['model.language_model.layers.0.self_attn.q_proj.lora_A.weight', `language_model.${base}.layers.0.self_attn.q_proj.lora_A.weight`],
        ['model.vision_tower.encoder.layers.1.mlp.fc1', 'vision_tower.encoder.layers.1.mlp.fc1'],
        ['model.multi_modal_projector', 'multi_modal_projector'],
        ['model.multi_modal_projector.linear_1.weight', 'multi_modal_projector.linear_1.weight'],
        ['lm_head.weight', 'language_model.lm_head.weight'],
        ['lm_head', 'language_model.lm_head'],
        [`language_model.${base}.layers.0.self_attn.q_proj`, `language_model.${base}.layers.0.self_attn.q_proj`],
        ['q_proj', 'q_proj'],
      ];
      for (const [given, expected] of cases) expect([given, model.checkpointKeyName(given)]).toEqual([given, expected]);
      // every parameter of the tree survives a round trip through the newer names
      for (const name of model.root.stateDict().keys()) {
        const newer = name
          .replace(new RegExp(`^language_model\\.${base}\\.`), 'model.language_model.')
          .replace(/^language_model\.lm_head/, 'lm_head')
          .replace(/^(vision_tower|multi_modal_projector)\./, 'model.$1.');
        expect(model.checkpointKeyName(newer)).toBe(name);
      }
    } finally {
      model.dispose();
    }
  });

  test('save writes the Hub layout, config and processor files, and loads back', async () => {
    const src = join(dir, 'src');
    await writeTinyLlavaCheckpoint(src, { layout: 'transformers', seed: 4 });
    const model = await LlavaForConditionalGeneration.fromPretrained(src, {}, tinyLlavaContext());
    const out = join(dir, 'saved');
    try {
      await model.save(out);
      const keys = [...(await readSafetensors(join(out, 'model.safetensors'))).tensors.keys()].sort();
      expect(keys.every((k) => /^(vision_tower|multi_modal_projector|language_model)\./.test(k))).toBe(true);
      const config = JSON.parse(readFileSync(join(out, 'config.json'), 'utf8'));
      expect(config).toMatchObject({
        architectures: ['LlavaForConditionalGeneration'],
        model_type: 'llava',
        image_token_index: 7,
        vision_feature_layer: -2,
      });
      expect(config.text_config.model_type).toBe('tiny-lm');
      // (image_size / patch_size)² patches, CLS dropped by the default strategy
      expect(config.image_seq_length).toBe((config.vision_config.image_size / 2) ** 2);
      expect(config.image_seq_length).toBe(model.numImageTokens);
      const processor = JSON.parse(readFileSync(join(out, 'processor_config.json'), 'utf8'));
      expect(processor).toMatchObject({ patch_size: 2, num_additional_image_tokens: 1, vision_feature_select_strategy: 'default' });
      const again = await LlavaForConditionalGeneration.fromPretrained(out, {}, tinyLlavaContext());
      try {
        const reloaded = again.root.stateDict();
        for (const [name, v] of model.root.stateDict())
          expect(Array.from(reloaded.get(name)!.dataSync())).toEqual(Array.from(v.dataSync()));
      } finally {
        again.dispose();
      }
    } finally {
      model.dispose();
    }
  });

  test('a mixed-layout or incomplete checkpoint is refused naming the tensor', async () => {
    const sub = join(dir, 'hub-bad');
    await writeTinyLlavaCheckpoint(sub, { layout: 'hub' });
    const file = join(sub, 'model.safetensors');
    const { tensors } = await readSafetensors(file);
    const w = tensors.get('multi_modal_projector.linear_2.weight')!;
    tensors.delete('multi_modal_projector.linear_2.weight');
    await writeSafetensors(file, tensors);
    await expect(LlavaForConditionalGeneration.fromPretrained(sub, {}, tinyLlavaContext())).rejects.toThrow(
      /missing.*multi_modal_projector\.linear_2\.weight/s,
    );
    tensors.set('model.multi_modal_projector.linear_2.weight', w);
    await writeSafetensors(file, tensors);
    await expect(LlavaForConditionalGeneration.fromPretrained(sub, {}, tinyLlavaContext())).rejects.toThrow(/mixes both LLaVA key layouts/);
  });

  test('greedy generate matches the reference decoding; the stream gives the same tokens', async () => {
    const model = await tinyLlava();
    try {
      const prompt = [1, 7, 7, 7, 7, 2];
      const images = randomImages(1, 3);
      const p = paramsOf(model);
      const e = matrix(p, 'language_model.model.embed_tokens.weight');
      const features = imageFeatures(p, images[0]!, { layers: [-2], strategy: 'default' });
      let k = 0;
      const embeds = prompt.map((id) => (id === 7 ? features[k++]! : e[id]!));
      const expected: number[] = [];
      const eos = model.languageModel.config.eos_token_id;
      for (let step = 0; step < 4; step++) {
        const logits = lmLogits(p, embeds);
        // minNewTokens 4 suppresses eos (MinNewTokensLengthLogitsProcessor)
        const last = logits[logits.length - 1]!.map((v, id) => (id === eos ? -Infinity : v));
        const next = last.indexOf(Math.max(...last));
        expected.push(next);
        embeds.push(e[next]!);
      }
      const inputs = { inputIds: tf.tensor2d([prompt], undefined, 'int32'), pixelValues: tf.tensor4d(images) };
      const options = { maxNewTokens: 4, minNewTokens: 4, doSample: false };
      const result = await model.generate(inputs, options);
      const seq = result.sequences;
      expect(seq[0]!.slice(-4)).toEqual(expected);
      const streamed: number[] = [];
      for await (const chunk of model.generateStream(inputs, options)) streamed.push(chunk.tokens[0]!);
      expect(streamed).toEqual(expected);
    } finally {
      model.dispose();
    }
  });

  test('forward leaks no tensors', async () => {
    const model = await tinyLlava();
    try {
      const ids = tf.tensor2d([[1, 7, 7, 7, 7, 2]], undefined, 'int32');
      const px = tf.tensor4d(randomImages(1, 4));
      const before = tf.memory().numTensors;
      const out = model.forward({ inputIds: ids, pixelValues: px });
      out.logits.dispose();
      expect(tf.memory().numTensors).toBe(before);
    } finally {
      model.dispose();
    }
  });
});
