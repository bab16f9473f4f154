import 'reflect-metadata';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { afterAll, beforeAll, describe, expect, test } from '@jest/globals';
import * as tf from '@tensorflow/tfjs-core';
import '@tensorflow/tfjs-backend-cpu';
import { architectureContext, type ArchitectureProvider } from '@mmft/core';
import { readSafetensors, writeSafetensors, type WritableTensor } from '@mmft/core/io';
import { LayerNorm } from '@mmft/core/nn';
import { describeArchitecture, tinyCausalLmProvider } from '@mmft/core/testing';
import { Blip2ForConditionalGeneration } from './blip2-for-conditional-generation';
import { parseBlip2Config } from './checkpoint/parse-config';
import { Blip2QFormerModel } from './model/qformer';
import type { Blip2EncoderLayer, Blip2VisionEmbeddings } from './model/vision';
import { blip2Provider } from './plugin';
import { createTinyBlip2Checkpoint, refQFormerForward, refVisionForward, TINY_BLIP2_CONFIG, type RefWeights } from './testing';
import { initBlip2Weights } from './model/init-weights';
import { withImageTokens } from './processor';

const context = architectureContext({ list: () => [tinyCausalLmProvider as ArchitectureProvider, blip2Provider as ArchitectureProvider] });
const IMG = 3;
const Q = 4;
const TEXT_CONFIG = { model_type: 'tiny-lm', hidden_size: 8, bos_token_id: 374 };

let tmp: string;
let currentDir: string;
let legacyDir: string;

beforeAll(async () => {
  await tf.setBackend('cpu');
  tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'mmft-blip2-'));
  currentDir = (await createTinyBlip2Checkpoint(path.join(tmp, 'current'), { context, seed: 3, textConfig: TEXT_CONFIG })).dir;
  // The same weights in the legacy layout: only image_token_index differs.
  legacyDir = path.join(tmp, 'legacy');
  fs.cpSync(currentDir, legacyDir, { recursive: true });
  const config = JSON.parse(fs.readFileSync(path.join(legacyDir, 'config.json'), 'utf8')) as Record<string, unknown>;
  fs.writeFileSync(path.join(legacyDir, 'config.json'), JSON.stringify({ ...config, image_token_index: null }));
  fs.rmSync(path.join(legacyDir, 'processor_config.json'));
});

afterAll(() => fs.rmSync(tmp, { recursive: true, force: true }));

const load = (dir: string) => Blip2ForConditionalGeneration.fromPretrained(dir, {}, context);
const weightsOf = (model: Blip2ForConditionalGeneration): RefWeights => {
  const dict = model.root.stateDict();
  return (name) => {
    const v = dict.get(name);
    if (!v) throw new Error(`no weight ${name}`);
    return { shape: v.shape, data: v.dataSync() };
  };
};
const pixels = (batch: number, seed: number) => tf.randomNormal([batch, 3, 8, 8], 0, 1, 'float32', seed);
const close = (a: number[][] | number[][][], b: number[][] | number[][][], tol = 2e-4) => {
  const fa = (a as number[][]).flat(2) as number[];
  const fb = (b as number[][]).flat(2) as number[];
  expect(fa.length).toBe(fb.length);
  const worst = Math.max(...fa.map((x, i) => Math.abs(x - fb[i]!)));
  expect(worst).toBeLessThan(tol);
};
const ids2 = (rows: number[][]) => tf.tensor2d(rows, undefined, 'int32');

describe('Blip2VisionModel against the plain-JS reference, layer by layer', () => {
  test('embeddings, each encoder layer and post_layernorm', async () => {
    const model = await load(currentDir);
    try {
      const px = pixels(2, 1);
      const image = px.arraySync() as number[][][][];
      const vision = model.root.visionModel;
      const config = model.config.vision_config;
      let x = vision.child<Blip2VisionEmbeddings>('embeddings').forward(px);
      for (let b = 0; b < 2; b++) {
        const ref = refVisionForward(weightsOf(model), config, image[b]!);
        const states = [x];
        for (let l = 0; l < config.num_hidden_layers; l++)
          states.push(vision.getModule<Blip2EncoderLayer>(`encoder.layers.${l}`).forward(states[l]!));
        states.forEach((s, l) => close((s.arraySync() as number[][][])[b]!, ref.layers[l]!));
        const { lastHiddenState, poolerOutput } = vision.forward(px);
        close((lastHiddenState.arraySync() as number[][][])[b]!, ref.lastHiddenState);
        tf.dispose([...states.slice(1), lastHiddenState, poolerOutput]);
      }
      tf.dispose([x, px]);
      x = undefined as never;
    } finally {
      model.dispose();
    }
  });

  test('the k third of the fused qkv bias changes nothing (softmax ignores a per-row constant)', async () => {
    const model = await load(currentDir);
    try {
      const px = pixels(1, 2);
      const before = model.root.visionModel.forward(px).lastHiddenState;
      const bias = model.root.stateDict().get('vision_model.encoder.layers.0.self_attn.qkv.bias')!;
      const d = model.config.vision_config.hidden_size;
      const changed = tf.tidy(() => tf.concat([tf.slice(bias, 0, d), tf.fill([d], 5), tf.slice(bias, 2 * d, d)]));
      bias.assign(changed);
      const after = model.root.visionModel.forward(px).lastHiddenState;
      close(after.arraySync() as number[][][], before.arraySync() as number[][][], 1e-5);
      tf.dispose([px, before, after, changed]);
    } finally {
      model.dispose();
    }
  });
});

describe('Blip2QFormerModel against the plain-JS reference', () => {
  test('queries and text with padding (use_qformer_text_input), every layer', () => {
    const config = parseBlip2Config({
      ...TINY_BLIP2_CONFIG,
      qformer_config: { ...TINY_BLIP2_CONFIG.qformer_config, use_qformer_text_input: true },
    });
    const qformer = new Blip2QFormerModel(config.qformer_config, 5).eval();
    try {
      // Random LayerNorm affine too, so the reference reads every weight.
      for (const [, v] of qformer.namedParameters()) v.assign(tf.randomNormal(v.shape, 0, 0.3, 'float32', v.size));
      const w: RefWeights = (name) => {
        const v = qformer.stateDict().get(name.replace(/^qformer\./, ''))!;
        return { shape: v.shape, data: v.dataSync() };
      };
      const embeds = tf.randomNormal([2, 7, 12], 0, 1, 'float32', 11); // 4 queries + 3 text
      const image = tf.randomNormal([2, 5, 16], 0, 1, 'float32', 12);
      const mask = [
        [1, 1, 1, 1, 1, 1, 1],
        [1, 1, 1, 1, 1, 1, 0],
      ];
      let x = tf.tidy(() => qformer.child<LayerNorm>('layernorm').forward(embeds));
      const maskT = ids2(mask);
      const out = qformer.forward({ queryEmbeds: embeds, queryLength: 4, attentionMask: maskT, encoderHiddenStates: image });
      const e = embeds.arraySync() as number[][][];
      const im = image.arraySync() as number[][][];
      const extended = tf.tidy(() => tf.reshape(tf.mul(tf.sub(1, tf.cast(maskT, 'float32')), -10000), [2, 1, 1, 7]));
      const imageMask = tf.zeros([2, 1, 1, 5]);
      for (let b = 0; b < 2; b++) {
        const ref = refQFormerForward(w, config.qformer_config, e[b]!, im[b]!, 4, mask[b]);
        let y = x;
        close((y.arraySync() as number[][][])[b]!, ref[0]!);
        for (let l = 0; l < 3; l++) {
          const next = qformer.layers.get(l).forward(y, { mask: extended, encoderStates: image, encoderMask: imageMask, queryLength: 4 });
          close((next.arraySync() as number[][][])[b]!, ref[l + 1]!);
          if (y !== x) y.dispose();
          y = next;
        }
        close((out.arraySync() as number[][][])[b]!, ref[3]!);
        if (y !== x) y.dispose();
      }
      tf.dispose([x, out, embeds, image, maskT, extended, imageMask]);
      x = undefined as never;
    } finally {
      qformer.dispose();
    }
  });

  test('cross-attention only in layers i % cross_attention_frequency == 0: the image reaches the queries only there', async () => {
    const model = await load(currentDir);
    try {
      const qformer = model.root.qformer;
      expect(qformer.layers.get(0).hasCrossAttention).toBe(true);
      expect(qformer.layers.get(1).hasCrossAttention).toBe(false);
      expect(qformer.layers.get(2).hasCrossAttention).toBe(true);
      const names = model.root.namedParameters().map(([n]) => n);
      expect(names.some((n) => n.startsWith('qformer.encoder.layer.1.crossattention'))).toBe(false);
      expect(names).toContain('qformer.encoder.layer.2.crossattention.attention.key.weight');
      expect(names.some((n) => /qformer\.encoder\.layer\.\d+\.intermediate\./.test(n))).toBe(false);
      const hidden = tf.randomNormal([1, Q, 12], 0, 1, 'float32', 21);
      const [imageA, imageB] = [tf.randomNormal([1, 5, 16], 0, 1, 'float32', 22), tf.randomNormal([1, 5, 16], 0, 1, 'float32', 23)];
      const diff = (l: number) => {
        const run = (image: tf.Tensor) => qformer.layers.get(l).forward(hidden, { encoderStates: image, queryLength: Q });
        const [a, b] = [run(imageA), run(imageB)];
        const d = tf.max(tf.abs(tf.sub(a, b))).dataSync()[0]!;
        tf.dispose([a, b]);
        return d;
      };
      expect(diff(0)).toBeGreaterThan(1e-3);
      expect(diff(1)).toBe(0);
      expect(diff(2)).toBeGreaterThan(1e-3);
      tf.dispose([hidden, imageA, imageB]);
    } finally {
      model.dispose();
    }
  });
});

describe('Blip2ForConditionalGeneration', () => {
  const text = [
    [374, 64, 362, 268],
    [374, 64, 362, 374],
  ];
  const textMask = [
    [1, 1, 1, 1],
    [1, 1, 1, 0],
  ];

  test('legacy and current layouts give the same logits on the text positions', async () => {
    const [current, legacy] = [await load(currentDir), await load(legacyDir)];
    try {
      expect(current.expandsImageTokens).toBe(true);
      expect(legacy.expandsImageTokens).toBe(false);
      const px = pixels(2, 4);
      const expanded = withImageTokens({ inputIds: text, attentionMask: textMask }, IMG, Q);
      const a = current.forward({ pixelValues: px, inputIds: ids2(expanded.inputIds), attentionMask: ids2(expanded.attentionMask) });
      const b = legacy.forward({ pixelValues: px, inputIds: ids2(text), attentionMask: ids2(textMask) });
      expect(a.logits.shape).toEqual([2, Q + 4, 375]);
      expect(b.logits.shape).toEqual([2, Q + 4, 375]);
      const [ta, tb] = [tf.slice(a.logits, [0, Q, 0], [2, 4, 375]), tf.slice(b.logits, [0, Q, 0], [2, 4, 375])];
      close(ta.arraySync() as number[][][], tb.arraySync() as number[][][], 1e-5);
      tf.dispose([ta, tb]);
      tf.dispose([a.logits, b.logits, px]);
    } finally {
      current.dispose();
      legacy.dispose();
    }
  });

  test('labels: −100 on image positions; the loss is the mean token cross-entropy over text labels', async () => {
    const [current, legacy] = [await load(currentDir), await load(legacyDir)];
    try {
      const px = pixels(2, 5);
      const expanded = withImageTokens({ inputIds: text, attentionMask: textMask }, IMG, Q);
      const labelsText = text.map((row, b) => row.map((id, j) => (textMask[b]![j] ? id : -100)));
      // Current layout, labels = the ids themselves (image tokens included): the model ignores those.
      const full = expanded.inputIds.map((row, b) => row.map((id, p) => (p < Q || textMask[b]![p - Q] ? id : -100)));
      const out = current.forward({
        pixelValues: px,
        inputIds: ids2(expanded.inputIds),
        attentionMask: ids2(expanded.attentionMask),
        labels: ids2(full),
      });
      // By hand: position p predicts label p + 1, for every label that is not −100 and not an image token.
      const logits = out.logits.arraySync() as number[][][];
      let sum = 0;
      let count = 0;
      full.forEach((row, b) =>
        row.forEach((label, p) => {
          if (p === 0 || label === -100 || label === IMG) return;
          const z = logits[b]![p - 1]!;
          const m = Math.max(...z);
          const lse = m + Math.log(z.reduce((acc, v) => acc + Math.exp(v - m), 0));
          sum += lse - z[label]!;
          count += 1;
        }),
      );
      expect(count).toBe(4 + 3); // bos of each row included: predicted by the last image position
      expect(out.loss!.dataSync()[0]).toBeCloseTo(sum / count, 5);
      // Legacy (text-length labels): logits[:, -L:] vs labels[:, 1:], so bos is not predicted.
      const legacyOut = legacy.forward({ pixelValues: px, inputIds: ids2(text), attentionMask: ids2(textMask), labels: ids2(labelsText) });
      let sumL = 0;
      let countL = 0;
      labelsText.forEach((row, b) =>
        row.forEach((label, j) => {
          if (j === 0 || label === -100) return;
          const z = logits[b]![Q + j - 1]!; // same logits on text positions (previous test)
          const m = Math.max(...z);
          sumL += m + Math.log(z.reduce((acc, v) => acc + Math.exp(v - m), 0)) - z[label]!;
          countL += 1;
        }),
      );
      expect(countL).toBe(3 + 2);
      expect(legacyOut.loss!.dataSync()[0]).toBeCloseTo(sumL / countL, 5);
      tf.dispose([out.logits, out.loss!, legacyOut.logits, legacyOut.loss!, px]);
    } finally {
      current.dispose();
      legacy.dispose();
    }
  });

  test('a row without num_query_tokens image tokens is an error naming the row', async () => {
    const model = await load(currentDir);
    try {
      const px = pixels(1, 6);
      expect(() => model.forward({ pixelValues: px, inputIds: ids2([[IMG, IMG, 374, 64]]) })).toThrow(
        /row 0 of inputIds has 2 image tokens/,
      );
      px.dispose();
    } finally {
      model.dispose();
    }
  });

  for (const layout of ['current', 'legacy'] as const) {
    test(`generate from the image alone (${layout}): greedy new tokens equal argmax over forward, no tensors leak`, async () => {
      const model = await load(layout === 'current' ? currentDir : legacyDir);
      try {
        const px = pixels(2, 7);
        const before = tf.memory().numTensors;
        const { sequences } = await model.generate({ pixelValues: px }, { maxNewTokens: 4, doSample: false, eosTokenId: 0 });
        expect(tf.memory().numTensors).toBe(before);
        // By hand: prompt [image × Q, bos] (current) or [bos] after the queries (legacy), argmax step by step.
        const prefix = layout === 'current' ? [...new Array<number>(Q).fill(IMG), 374] : [374];
        for (let b = 0; b < 2; b++) {
          const row = [...prefix];
          const img = tf.slice(px, [b, 0, 0, 0], [1, 3, 8, 8]);
          for (let step = 0; step < 4; step++) {
            const { logits } = model.forward({ pixelValues: img, inputIds: ids2([row]) });
            const last = (logits.arraySync() as number[][][])[0]!.at(-1)!;
            row.push(last.indexOf(Math.max(...last)));
            logits.dispose();
          }
          img.dispose();
          expect(sequences[b]).toEqual(row.slice(prefix.length));
        }
        px.dispose();
      } finally {
        model.dispose();
      }
    });
  }

  test('forward with labels leaks no tensors', async () => {
    const model = await load(currentDir);
    try {
      const px = pixels(2, 8);
      const expanded = withImageTokens({ inputIds: text, attentionMask: textMask }, IMG, Q);
      const [ids, mask] = [ids2(expanded.inputIds), ids2(expanded.attentionMask)];
      const before = tf.memory().numTensors;
      const out = model.forward({ pixelValues: px, inputIds: ids, attentionMask: mask, labels: ids });
      tf.dispose([out.logits, out.loss!]);
      expect(tf.memory().numTensors).toBe(before);
      tf.dispose([px, ids, mask]);
    } finally {
      model.dispose();
    }
  });
});

describe('checkpoint folders', () => {
  test('save → load round trip; the tied lm_head is not in the file; HF names and config', async () => {
    const model = await load(currentDir);
    try {
      const out = path.join(tmp, 'roundtrip');
      await model.save(out);
      const { tensors } = await readSafetensors(path.join(out, 'model.safetensors'));
      expect(tensors.has('language_model.lm_head.weight')).toBe(false);
      expect([...tensors.keys()]).toEqual(
        expect.arrayContaining([
          'query_tokens',
          'vision_model.embeddings.class_embedding',
          'vision_model.embeddings.position_embedding',
          'vision_model.embeddings.patch_embedding.bias',
          'vision_model.encoder.layers.0.self_attn.qkv.weight',
          'vision_model.encoder.layers.0.self_attn.qkv.bias',
          'vision_model.encoder.layers.1.mlp.fc2.weight',
          'vision_model.post_layernorm.weight',
          'qformer.layernorm.weight',
          'qformer.encoder.layer.0.attention.attention.query.weight',
          'qformer.encoder.layer.0.attention.output.LayerNorm.bias',
          'qformer.encoder.layer.0.crossattention.attention.key.weight',
          'qformer.encoder.layer.1.intermediate_query.dense.weight',
          'qformer.encoder.layer.1.output_query.dense.weight',
          'language_projection.weight',
          'language_model.model.embed_tokens.weight',
        ]),
      );
      expect(tensors.get('qformer.encoder.layer.0.crossattention.attention.key.weight')!.shape).toEqual([12, 16]);
      const config = JSON.parse(fs.readFileSync(path.join(out, 'config.json'), 'utf8')) as Record<string, any>;
      expect(config.architectures).toEqual(['Blip2ForConditionalGeneration']);
      expect(config.model_type).toBe('blip-2');
      expect(config.text_config.model_type).toBe('tiny-lm');
      expect(config.qformer_config.encoder_hidden_size).toBe(16);
      expect(config.image_token_index).toBe(IMG);
      expect(JSON.parse(fs.readFileSync(path.join(out, 'processor_config.json'), 'utf8'))).toEqual({
        num_query_tokens: Q,
        processor_class: 'Blip2Processor',
      });
      const again = await load(out);
      try {
        const [a, b] = [model.root.stateDict(), again.root.stateDict()];
        expect([...b.keys()]).toEqual([...a.keys()]);
        for (const [name, v] of a) expect(Array.from(b.get(name)!.dataSync())).toEqual(Array.from(v.dataSync()));
        expect(again.root.getModule('language_model.lm_head')).toBeDefined();
      } finally {
        again.dispose();
      }
    } finally {
      model.dispose();
    }
  });

  test('4.26-era q_bias / v_bias files load as the fused qkv.bias', async () => {
    const dir = path.join(tmp, 'qv-bias');
    await createTinyBlip2Checkpoint(dir, { context, seed: 3, textConfig: TEXT_CONFIG, legacyQkvBias: true });
    const { tensors } = await readSafetensors(path.join(dir, 'model.safetensors'));
    expect(tensors.has('vision_model.encoder.layers.0.self_attn.q_bias')).toBe(true);
    const [a, b] = [await load(currentDir), await load(dir)];
    try {
      expect(b.loadReport!.fusedQkvBias).toEqual([
        'vision_model.encoder.layers.0.self_attn.qkv.bias',
        'vision_model.encoder.layers.1.self_attn.qkv.bias',
      ]);
      const bias = b.root.stateDict().get('vision_model.encoder.layers.0.self_attn.qkv.bias')!.dataSync();
      expect(Array.from(bias.slice(16, 32))).toEqual(new Array(16).fill(0));
      const name = 'vision_model.encoder.layers.1.self_attn.qkv.bias';
      const [x, y] = [a.root.stateDict().get(name)!.dataSync(), b.root.stateDict().get(name)!.dataSync()];
      expect(Array.from(y.slice(0, 16))).toEqual(Array.from(x.slice(0, 16)));
      expect(Array.from(y.slice(32))).toEqual(Array.from(x.slice(32)));
    } finally {
      a.dispose();
      b.dispose();
    }
  });

  test('a missing or mis-shaped tensor is an E_CHECKPOINT error naming it; nothing leaks', async () => {
    const dir = path.join(tmp, 'broken');
    fs.cpSync(currentDir, dir, { recursive: true });
    const file = path.join(dir, 'model.safetensors');
    const { tensors } = await readSafetensors(file);
    const out = new Map<string, WritableTensor>();
    for (const [name, t] of tensors) {
      if (name === 'qformer.encoder.layer.2.crossattention.attention.value.bias') continue;
      if (name === 'language_projection.weight') out.set(name, { dtype: 'F32', shape: [8, 11], data: new Float32Array(88) });
      else out.set(name, { dtype: 'F32', shape: [...t.shape], data: t.data as Float32Array });
    }
    await writeSafetensors(file, out, { format: 'pt' });
    const before = tf.memory().numTensors;
    const error = await load(dir).catch((e: unknown) => e as Error & { code?: string });
    expect(error).toBeInstanceOf(Error);
    expect((error as { code?: string }).code).toBe('E_CHECKPOINT');
    expect((error as Error).message).toMatch(/qformer\.encoder\.layer\.2\.crossattention\.attention\.value\.bias/);
    expect((error as Error).message).toMatch(/language_projection\.weight/);
    expect(tf.memory().numTensors).toBe(before);
  });

  test('without a registry the language model cannot be built: an error that says how', async () => {
    await expect(Blip2ForConditionalGeneration.fromPretrained(currentDir)).rejects.toThrow(/through the plugin registry/);
  });

  test('fromConfig initialises as transformers (LayerNorm 1/0, biases 0) with LAVIS-style random query tokens', async () => {
    const model = await Blip2ForConditionalGeneration.fromConfig(
      { ...TINY_BLIP2_CONFIG, text_config: { model_type: 'tiny-lm' } },
      context,
      { seed: 1 },
    );
    try {
      const dict = model.root.stateDict();
      expect(Array.from(dict.get('qformer.layernorm.weight')!.dataSync())).toEqual(new Array(12).fill(1));
      expect(Array.from(dict.get('language_projection.bias')!.dataSync())).toEqual(new Array(8).fill(0));
      const queries = Array.from(dict.get('query_tokens')!.dataSync());
      expect(new Set(queries).size).toBe(queries.length);
      initBlip2Weights(model.root, model.config, 1);
      expect(Array.from(dict.get('query_tokens')!.dataSync())).toEqual(queries);
    } finally {
      model.dispose();
    }
  });
});

describeArchitecture(
  {
    ...blip2Provider,
    fromPretrained: (dir: string, options?: object) => blip2Provider.fromPretrained(dir, options, context),
  } as typeof blip2Provider,
  {
    writeCheckpoint: async (dir) => {
      await createTinyBlip2Checkpoint(dir, { context, seed: 2 });
    },
    parameterNames: ['query_tokens', 'vision_model.encoder.layers.0.self_attn.qkv.weight', 'language_projection.weight'],
    towers: ['vision', 'qformer', 'projector', 'language'],
    peftTargets: ['query', 'value'],
  },
);
