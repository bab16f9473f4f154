import 'reflect-metadata';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { afterAll, beforeAll, describe, expect, test } from '@jest/globals';
import * as tf from '@tensorflow/tfjs-core';
import '@tensorflow/tfjs-backend-cpu';
import { architectureContext, isQueryTransformerModel, MmftError, PluginRegistry, type ArchitectureProvider } from '@mmft/core';
import { wordLevelTokenizerFileMap } from '@mmft/core/hf';
import { registerGradients } from '@mmft/core/nn';
import { describeArchitecture, tinyCausalLmProvider } from '@mmft/core/testing';
import plugin from '../index';
import { blip2Provider, blip2RetrievalProvider } from '../plugin';
import {
  createTinyBlip2Checkpoint,
  createTinyBlip2RetrievalCheckpoint,
  refEncodeImage,
  refEncodeText,
  refGroundedTextLogits,
  refItcSimilarity,
  refMatchLogits,
  refUnilmMask,
  TINY_BLIP2_RETRIEVAL_CONFIG,
  type RefRetrievalShape,
  type RefWeights,
} from '../testing';
import { Blip2ForImageTextRetrieval } from './blip2-for-image-text-retrieval';
import { unilmMask } from './heads';

const Q = 4;
const SHAPE: RefRetrievalShape = {
  vision: {
    hidden_size: 16,
    num_attention_heads: 2,
    num_hidden_layers: 2,
    patch_size: 4,
    image_size: 8,
    layer_norm_eps: 1e-6,
    qkv_bias: true,
  },
  qformer: { hidden_size: 12, num_attention_heads: 3, num_hidden_layers: 3, cross_attention_frequency: 2, layer_norm_eps: 1e-12 },
  numQueryTokens: Q,
};
// Two texts of length 6; the second is padded after 4 tokens. Id 19 is the decoder start ([DEC]).
const IDS = [
  [1, 5, 7, 2, 9, 3],
  [1, 4, 11, 3, 0, 0],
];
const MASK = [
  [1, 1, 1, 1, 1, 1],
  [1, 1, 1, 1, 0, 0],
];

let tmp: string;
let dir: string;
let model: Blip2ForImageTextRetrieval;
let w: RefWeights;
let pixels: tf.Tensor;
let images: number[][][][];

/** Seeded values in [-1, 1) (a linear congruential generator, so the test data is fixed). */
function seeded(n: number, seed: number): number[] {
  let s = seed >>> 0;
  return Array.from({ length: n }, () => {
    s = (Math.imul(s, 1664525) + 1013904223) >>> 0;
    return (s / 2 ** 32) * 2 - 1;
  });
}

const weightsOf = (m: Blip2ForImageTextRetrieval): RefWeights => {
  const dict = m.root.stateDict();
  const cache = new Map<string, { shape: readonly number[]; data: Float32Array }>();
  return (name) => {
    if (!cache.has(name)) {
      const v = dict.get(name);
      if (!v) throw new Error(`no parameter ${name}`);
      cache.set(name, { shape: v.shape, data: v.dataSync() as Float32Array });
    }
    return cache.get(name)!;
  };
};

const ids2d = (rows: number[][]) => tf.tensor2d(rows, [rows.length, rows[0]!.length], 'int32');
const maxDiff = (a: number[] | number[][] | number[][][], b: number[] | number[][] | number[][][]) => {
  const fa = (a as number[]).flat(3) as number[];
  const fb = (b as number[]).flat(3) as number[];
  expect(fa.length).toBe(fb.length);
  return Math.max(...fa.map((v, i) => Math.abs(v - fb[i]!)));
};

beforeAll(async () => {
  await tf.setBackend('cpu');
  registerGradients();
  tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'mmft-blip2-itm-'));
  dir = (await createTinyBlip2RetrievalCheckpoint(path.join(tmp, 'itm'), { seed: 5 })).dir;
  model = await Blip2ForImageTextRetrieval.fromPretrained(dir);
  // Every parameter (LayerNorm gains, biases, temp and the head's bias too) gets seeded noise, so no
  // zero or one hides a wrong formula.
  let k = 0;
  for (const [, v] of model.root.namedParameters()) {
    const noise = seeded(v.size, 100 + k++).map((x) => x * 0.4);
    tf.tidy(() => v.assign(tf.add(v, tf.tensor(noise, v.shape))));
  }
  w = weightsOf(model);
  const values = seeded(2 * 3 * 8 * 8, 7);
  pixels = tf.tensor4d(values, [2, 3, 8, 8]);
  images = pixels.arraySync() as number[][][][];
});

afterAll(() => {
  model?.dispose();
  pixels?.dispose();
  if (tmp) fs.rmSync(tmp, { recursive: true, force: true });
});

describe('Blip2ForImageTextRetrieval against the float64 reference', () => {
  test('implements the query-transformer contract', () => {
    expect(model.family).toBe('query-transformer');
    expect(isQueryTransformerModel(model)).toBe(true);
    expect(model.numQueryTokens).toBe(Q);
    expect(model.maxTextLength).toBe(8);
    expect(model.decoderStartTokenId).toBe(19);
    expect(model.temperature.shape).toEqual([]);
    expect(model.root.namedParameters().find(([n]) => n === 'temp')?.[1]).toBe(model.temperature);
  });

  test('encodeImage, encodeText and the ITC similarities (forward) equal the reference', () => {
    const { imageEmbeds, imageFeats } = model.encodeImage(pixels);
    const ids = ids2d(IDS);
    const mask = ids2d(MASK);
    const text = model.encodeText(ids, mask);
    const out = model.forward({ pixelValues: pixels, inputIds: ids, attentionMask: mask });
    try {
      const refImages = images.map((img) => refEncodeImage(w, SHAPE, img));
      const refTexts = IDS.map((row, i) => refEncodeText(w, SHAPE, row, MASK[i]!));
      expect(imageEmbeds.shape).toEqual([2, 5, 16]);
      expect(
        maxDiff(
          imageEmbeds.arraySync() as number[][][],
          refImages.map((r) => r.imageEmbeds),
        ),
      ).toBeLessThan(2e-4);
      expect(imageFeats.shape).toEqual([2, Q, 6]);
      expect(
        maxDiff(
          imageFeats.arraySync() as number[][][],
          refImages.map((r) => r.imageFeats),
        ),
      ).toBeLessThan(2e-4);
      expect(text.shape).toEqual([2, 6]);
      expect(maxDiff(text.arraySync() as number[][], refTexts)).toBeLessThan(2e-4);
      // logits_per_image[i][t] = max over queries of cosine similarity, no temperature.
      const sims = refImages.map((img) => refTexts.map((t) => refItcSimilarity(img.imageFeats, t)));
      expect(maxDiff(out.logitsPerImage!.arraySync() as number[][], sims)).toBeLessThan(2e-4);
      expect(out.logitsPerText!.arraySync()).toEqual(tf.tidy(() => tf.transpose(out.logitsPerImage!).arraySync()));
      // Padding must not matter: the padded row equals the same text without its pad columns.
      const short = model.encodeText(ids2d([IDS[1]!.slice(0, 4)]), ids2d([[1, 1, 1, 1]]));
      expect(maxDiff(short.arraySync() as number[][], [refTexts[1]!])).toBeLessThan(2e-4);
      short.dispose();
    } finally {
      tf.dispose([imageEmbeds, imageFeats, ids, mask, text, ...Object.values(out)]);
    }
  });

  test('ITM logits (matchLogits and forward with useImageTextMatchingHead) equal the reference', () => {
    const ids = ids2d(IDS);
    const mask = ids2d(MASK);
    const { imageEmbeds, imageFeats } = model.encodeImage(pixels);
    const logits = model.matchLogits(ids, mask, imageEmbeds);
    const out = model.forward({ pixelValues: pixels, inputIds: ids, attentionMask: mask, useImageTextMatchingHead: true });
    try {
      const refImage = images.map((img) => refEncodeImage(w, SHAPE, img).imageEmbeds);
      const expected = IDS.map((row, i) => refMatchLogits(w, SHAPE, row, MASK[i]!, refImage[i]!));
      expect(logits.shape).toEqual([2, 2]);
      expect(maxDiff(logits.arraySync() as number[][], expected)).toBeLessThan(2e-4);
      expect(maxDiff(out.logitsPerImage!.arraySync() as number[][], expected)).toBeLessThan(2e-4);
      expect(out.logitsPerText!.shape).toEqual([2, 2]);
      // The image matters: pairing text 0 with image 1 changes its logits.
      const swapped = refMatchLogits(w, SHAPE, IDS[0]!, MASK[0]!, refImage[1]!);
      expect(maxDiff(swapped, expected[0]!)).toBeGreaterThan(1e-3);
    } finally {
      tf.dispose([ids, mask, imageEmbeds, imageFeats, logits, ...Object.values(out)]);
    }
  });

  test('ITG logits under the UniLM mask equal the reference (LM head tied to the word embeddings)', () => {
    const decoderIds = IDS.map((row) => [19, ...row.slice(1)]);
    const ids = ids2d(decoderIds);
    const mask = ids2d(MASK);
    const { imageEmbeds, imageFeats } = model.encodeImage(pixels);
    const logits = model.groundedTextLogits(ids, mask, imageEmbeds);
    try {
      const refImage = images.map((img) => refEncodeImage(w, SHAPE, img).imageEmbeds);
      const expected = decoderIds.map((row, i) => refGroundedTextLogits(w, SHAPE, row, MASK[i]!, refImage[i]!).logits);
      expect(logits.shape).toEqual([2, 6, 20]);
      expect(maxDiff(logits.arraySync() as number[][][], expected)).toBeLessThan(5e-4);
    } finally {
      tf.dispose([ids, mask, imageEmbeds, imageFeats, logits]);
    }
  });
});

describe('the decoder mask', () => {
  test('unilmMask equals the element-by-element construction', () => {
    const mask = unilmMask(3, tf.tensor2d(MASK, [2, 6], 'int32'));
    expect(mask.shape).toEqual([2, 9, 9]);
    expect(mask.arraySync()).toEqual(MASK.map((m) => refUnilmMask(3, m)));
    mask.dispose();
  });

  test('queries never see text; text position t does not see t + 1', () => {
    const { imageEmbeds, imageFeats } = model.encodeImage(tf.slice(pixels, [0, 0, 0, 0], [1, -1, -1, -1]));
    const base = [19, 5, 7, 2, 9, 3];
    const changed = [19, 5, 7, 12, 9, 3]; // position 3 differs
    const mask = ids2d([[1, 1, 1, 1, 1, 1]]);
    const run = (row: number[]) =>
      tf.tidy(() => {
        const ids = ids2d([row]);
        const queries = tf.tile(model.root.param('query_tokens'), [1, 1, 1]);
        const embeds = model.root.embeddings.forward(ids, queries);
        const states = model.root.qformer.forward({
          queryEmbeds: embeds,
          queryLength: Q,
          attentionMask: unilmMask(Q, mask),
          encoderHiddenStates: imageEmbeds,
        });
        return {
          queries: tf.slice(states, [0, 0, 0], [1, Q, -1]).arraySync() as number[][][],
          logits: model.groundedTextLogits(ids, mask, imageEmbeds).arraySync() as number[][][],
        };
      });
    const a = run(base);
    const b = run(changed);
    try {
      expect(b.queries).toEqual(a.queries);
      for (let t = 0; t < 3; t++) expect(b.logits[0]![t]).toEqual(a.logits[0]![t]);
      for (let t = 3; t < 6; t++) expect(maxDiff(b.logits[0]![t]!, a.logits[0]![t]!)).toBeGreaterThan(1e-4);
      // The image reaches the text through the queries.
      const other = model.encodeImage(tf.slice(pixels, [1, 0, 0, 0], [1, -1, -1, -1]));
      const c = tf.tidy(() => model.groundedTextLogits(ids2d([base]), mask, other.imageEmbeds).arraySync() as number[][][]);
      expect(maxDiff(c[0]![0]!, a.logits[0]![0]!)).toBeGreaterThan(1e-4);
      tf.dispose([other.imageEmbeds, other.imageFeats]);
    } finally {
      tf.dispose([imageEmbeds, imageFeats, mask]);
    }
  });

  test('gradients of the ITG loss reach the word embeddings, the LM head and the query tokens; forward leaks nothing', () => {
    const ids = ids2d([[19, 5, 7, 2, 9, 3]]);
    const mask = ids2d([[1, 1, 1, 1, 1, 1]]);
    const { imageEmbeds, imageFeats } = model.encodeImage(tf.slice(pixels, [0, 0, 0, 0], [1, -1, -1, -1]));
    const names = ['embeddings.word_embeddings.weight', 'qformer_lm_head.bias', 'qformer_lm_head.transform.dense.weight', 'query_tokens'];
    const dict = model.root.stateDict();
    const { grads, value } = tf.variableGrads(
      () => tf.sum(tf.square(model.groundedTextLogits(ids, mask, imageEmbeds))) as tf.Scalar,
      names.map((n) => dict.get(n)!),
    );
    try {
      for (const n of names) expect(tf.tidy(() => tf.max(tf.abs(grads[dict.get(n)!.name]!)).dataSync()[0]!)).toBeGreaterThan(0);
      const batchIds = ids2d(IDS);
      const before = tf.memory().numTensors;
      for (const head of [false, true]) {
        // No mask: forward makes (and frees) its own ones.
        const out = model.forward({ pixelValues: pixels, inputIds: batchIds, useImageTextMatchingHead: head });
        tf.dispose(Object.values(out));
      }
      expect(tf.memory().numTensors).toBe(before);
      batchIds.dispose();
    } finally {
      tf.dispose([ids, mask, imageEmbeds, imageFeats, value, ...Object.values(grads)]);
    }
  });
});

describe('checkpoints', () => {
  test('save → fromPretrained is bit-exact, keeps temp and writes HF config.json', async () => {
    const out = path.join(tmp, 'roundtrip');
    tf.tidy(() => model.temperature.assign(tf.scalar(0.05)));
    await model.save(out);
    const config = JSON.parse(fs.readFileSync(path.join(out, 'config.json'), 'utf8')) as Record<string, unknown>;
    expect(config.architectures).toEqual(['Blip2ForImageTextRetrieval']);
    expect(config.model_type).toBe('blip-2');
    expect((config.qformer_config as Record<string, unknown>).use_qformer_text_input).toBe(true);
    const again = await Blip2ForImageTextRetrieval.fromPretrained(out);
    try {
      expect(again.loadReport?.newlyInitialized).toEqual([]);
      const [a, b] = [model.root.stateDict(), again.root.stateDict()];
      expect([...b.keys()]).toEqual([...a.keys()]);
      for (const [name, v] of a) expect(Array.from(b.get(name)!.dataSync())).toEqual(Array.from(v.dataSync()));
      expect(again.temperature.dataSync()[0]).toBeCloseTo(0.05, 7);
      expect([...a.keys()]).not.toContain('qformer_lm_head.decoder.weight');
    } finally {
      again.dispose();
    }
  });

  test('a folder without the stage-1 extras (what transformers saves) loads them freshly initialised and says so', async () => {
    const hfDir = (await createTinyBlip2RetrievalCheckpoint(path.join(tmp, 'hf'), { seed: 5, withoutStageOneExtras: true })).dir;
    const full = await Blip2ForImageTextRetrieval.fromPretrained(dir);
    const loaded = await Blip2ForImageTextRetrieval.fromPretrained(hfDir);
    try {
      expect([...(loaded.loadReport?.newlyInitialized ?? [])].sort()).toEqual(
        [
          'qformer_lm_head.bias',
          'qformer_lm_head.transform.LayerNorm.bias',
          'qformer_lm_head.transform.LayerNorm.weight',
          'qformer_lm_head.transform.dense.bias',
          'qformer_lm_head.transform.dense.weight',
          'temp',
        ].sort(),
      );
      expect(loaded.temperature.dataSync()[0]).toBeCloseTo(0.07, 7);
      const lnWeight = loaded.root.stateDict().get('qformer_lm_head.transform.LayerNorm.weight')!;
      expect(Array.from(lnWeight.dataSync()).every((x) => x === 1)).toBe(true);
      for (const [name, v] of full.root.stateDict()) {
        if (name === 'temp' || name.startsWith('qformer_lm_head.')) continue;
        expect({ name, same: Array.from(loaded.root.stateDict().get(name)!.dataSync()).every((x, i) => x === v.dataSync()[i]) }).toEqual({
          name,
          same: true,
        });
      }
    } finally {
      full.dispose();
      loaded.dispose();
    }
  });

  test('decoderStartTokenId: config first, else the tokenizer bos; neither is a clear error', async () => {
    const tokDir = path.join(tmp, 'tokenizer');
    fs.mkdirSync(tokDir, { recursive: true });
    const { files, ids } = wordLevelTokenizerFileMap(['a red circle', 'blue square'], { bosToken: '[DEC]', modelMaxLength: 8 });
    for (const [name, text] of files) fs.writeFileSync(path.join(tokDir, name), text);
    const qformer = { ...TINY_BLIP2_RETRIEVAL_CONFIG.qformer_config } as Record<string, unknown>;
    delete qformer.bos_token_id;
    const withTokenizer = await Blip2ForImageTextRetrieval.fromConfig(
      { ...TINY_BLIP2_RETRIEVAL_CONFIG, qformer_config: qformer },
      { tokenizer: tokDir },
    );
    const bare = await Blip2ForImageTextRetrieval.fromConfig({ ...TINY_BLIP2_RETRIEVAL_CONFIG, qformer_config: qformer });
    const outside = await Blip2ForImageTextRetrieval.fromConfig({
      ...TINY_BLIP2_RETRIEVAL_CONFIG,
      qformer_config: { ...qformer, bos_token_id: 20 },
    });
    try {
      expect(withTokenizer.decoderStartTokenId).toBe(ids.bos);
      expect(() => bare.decoderStartTokenId).toThrow(/qformer_config\.bos_token_id/);
      expect(() => bare.decoderStartTokenId).toThrow(MmftError);
      expect(() => outside.decoderStartTokenId).toThrow(/outside the Q-Former vocabulary \[0, 20\)/);
    } finally {
      withTokenizer.dispose();
      bare.dispose();
      outside.dispose();
    }
  });

  test('config errors: no text feed-forward, another architecture; input errors name the fix', async () => {
    const noText = path.join(tmp, 'no-text');
    fs.cpSync(dir, noText, { recursive: true });
    const config = JSON.parse(fs.readFileSync(path.join(noText, 'config.json'), 'utf8')) as Record<string, Record<string, unknown>>;
    fs.writeFileSync(
      path.join(noText, 'config.json'),
      JSON.stringify({ ...config, qformer_config: { ...config.qformer_config, use_qformer_text_input: false } }),
    );
    await expect(Blip2ForImageTextRetrieval.fromPretrained(noText)).rejects.toThrow(/use_qformer_text_input is false/);
    fs.writeFileSync(path.join(noText, 'config.json'), JSON.stringify({ ...config, architectures: ['Blip2ForConditionalGeneration'] }));
    await expect(Blip2ForImageTextRetrieval.fromPretrained(noText)).rejects.toThrow(/not "Blip2ForImageTextRetrieval"/);
    const long = ids2d([[1, 2, 3, 4, 5, 6, 7, 8, 9]]);
    const outOfVocab = ids2d([[1, 20]]);
    try {
      expect(() => model.encodeText(long, tf.onesLike(long))).toThrow(/9 tokens but only 8 position embeddings/);
      expect(() => model.encodeText(outOfVocab, tf.onesLike(outOfVocab))).toThrow(/token id 20 at \[0, 1\]/);
      expect(() => model.forward({ inputIds: long })).toThrow(/needs pixelValues/);
    } finally {
      tf.dispose([long, outOfVocab]);
    }
  });

  test('with image_token_index set, forward drops the leading image tokens as transformers does', async () => {
    const current = await Blip2ForImageTextRetrieval.fromPretrained(dir);
    const withTokens = path.join(tmp, 'current');
    (current.config as Record<string, unknown>).image_token_index = 18;
    await current.save(withTokens);
    current.dispose();
    const loaded = await Blip2ForImageTextRetrieval.fromPretrained(withTokens);
    const plain = await Blip2ForImageTextRetrieval.fromPretrained(dir);
    expect(fs.existsSync(path.join(withTokens, 'processor_config.json'))).toBe(true);
    const prefixed = ids2d(IDS.map((row) => [18, 18, 18, 18, ...row]));
    const prefixedMask = ids2d(MASK.map((row) => [1, 1, 1, 1, ...row]));
    const ids = ids2d(IDS);
    const mask = ids2d(MASK);
    try {
      for (const head of [false, true]) {
        const a = loaded.forward({ pixelValues: pixels, inputIds: prefixed, attentionMask: prefixedMask, useImageTextMatchingHead: head });
        const b = plain.forward({ pixelValues: pixels, inputIds: ids, attentionMask: mask, useImageTextMatchingHead: head });
        expect(a.logitsPerImage!.arraySync()).toEqual(b.logitsPerImage!.arraySync());
        tf.dispose([...Object.values(a), ...Object.values(b)]);
      }
      expect(() => loaded.forward({ pixelValues: pixels, inputIds: ids, attentionMask: mask })).toThrow(
        /does not start with num_query_tokens = 4 image tokens/,
      );
    } finally {
      tf.dispose([prefixed, prefixedMask, ids, mask]);
      loaded.dispose();
      plain.dispose();
    }
  });
});

describe('providers', () => {
  test('blip2-retrieval is registered; blip2 still resolves model_type blip-2 and loads retrieval folders as Blip2ForImageTextRetrieval', async () => {
    const registry = new PluginRegistry();
    registry.use(plugin, plugin.meta.name);
    expect(registry.resolve('architecture', 'blip2-retrieval')).toBe(blip2RetrievalProvider);
    expect(registry.resolveModelType('blip-2')).toBe(blip2Provider);
    const context = architectureContext({
      list: () => [tinyCausalLmProvider as ArchitectureProvider, blip2Provider as ArchitectureProvider],
    });
    const retrieval = await blip2Provider.fromPretrained(dir, {}, context);
    const viaSection = await blip2Provider.fromConfig({ checkpoint: dir, ignoreUnexpected: false }, context);
    const generationDir = (await createTinyBlip2Checkpoint(path.join(tmp, 'generation'), { context, seed: 1 })).dir;
    const generation = await blip2Provider.fromPretrained(generationDir, {}, context);
    try {
      expect(retrieval).toBeInstanceOf(Blip2ForImageTextRetrieval);
      expect(viaSection).toBeInstanceOf(Blip2ForImageTextRetrieval);
      expect(generation.family).toBe('vision-to-llm');
      await expect(blip2RetrievalProvider.fromPretrained(generationDir)).rejects.toThrow(
        /architectures\[0\] is "Blip2ForConditionalGeneration"/,
      );
    } finally {
      retrieval.dispose();
      viaSection.dispose();
      generation.dispose();
    }
  });

  test('blip2-retrieval fromConfig builds a fresh model in training mode with temp 0.07 and the text feed-forward', async () => {
    const qformer = {
      hidden_size: 12,
      num_attention_heads: 3,
      num_hidden_layers: 2,
      intermediate_size: 24,
      vocab_size: 20,
      max_position_embeddings: 8,
    };
    // A recipe section as YAML gives it: plain JSON, defaults filled by the provider's schema.
    const section = JSON.parse(
      JSON.stringify({ config: { ...TINY_BLIP2_RETRIEVAL_CONFIG, qformer_config: qformer }, seed: 1 }),
    ) as Parameters<typeof blip2RetrievalProvider.fromConfig>[0];
    const fresh = await blip2RetrievalProvider.fromConfig(section);
    try {
      expect(fresh).toBeInstanceOf(Blip2ForImageTextRetrieval);
      expect(fresh.root.training).toBe(true);
      expect((fresh as Blip2ForImageTextRetrieval).temperature.dataSync()[0]).toBeCloseTo(0.07, 7);
      expect(fresh.root.namedParameters().map(([n]) => n)).toContain('qformer.encoder.layer.1.output.dense.weight');
    } finally {
      fresh.dispose();
    }
  });
});

describeArchitecture(blip2RetrievalProvider, {
  writeCheckpoint: async (d) => {
    await createTinyBlip2RetrievalCheckpoint(d, { seed: 2 });
  },
  parameterNames: [
    'query_tokens',
    'embeddings.word_embeddings.weight',
    'vision_projection.weight',
    'text_projection.weight',
    'itm_head.weight',
    'temp',
  ],
  towers: ['vision', 'qformer', 'heads'],
  inputs: () => ({
    pixelValues: tf.tidy(() => tf.keep(tf.tensor4d(seeded(3 * 64, 3), [1, 3, 8, 8]))),
    inputIds: tf.keep(tf.tensor2d([[1, 5, 7]], [1, 3], 'int32')),
    attentionMask: tf.keep(tf.tensor2d([[1, 1, 1]], [1, 3], 'int32')),
  }),
  peftTargets: ['query', 'value'],
});
