// The onnxruntime rows on tiny models: the embeddings they time are the tfjs model's (normalised,
// within 1e-4), the decode they time produces the tfjs model's greedy generate() tokens, each thread
// setting gives the number of samples the kind says and the fastest one is the result; the text rows
// count FLOPs as written out by hand; the shipped -ort files mirror their tfjs siblings. No speed is
// asserted (docs/benchmarks.md: tests check the benchmark, never how fast anything is).
import '@mmft/exporter-onnx/jest-ort-realm';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import * as tf from '@tensorflow/tfjs-core';
import { afterAll, beforeAll, describe, expect, test } from '@jest/globals';
import { isCausalLanguageModel, type PluginRegistry } from '@mmft/core';
import { exportOnnx } from '@mmft/exporter-onnx';
import { benchConfigSchema } from '../suite/bench-config';
import { loadExperiments, type Experiment } from '../suite/experiment';
import { benchRegistry } from '../suite/registry';
import { peerSpec } from '../peer/torch-peer';
import { buildModel, selectEngine } from './build-run';
import { lmPromptIds, lmSpecOf } from './lm-synthetic';
import { runEmbedText, textEmbedFlops } from './run-embed-text';
import { benchGenerationOptions } from './run-generate';
import { decodePasses, embedPasses, loadOrt, normalizeRows, ortSessionOptions, runOnnxRuntime, type OrtSession } from './run-onnx';
import { syntheticPixels, syntheticSpecOf, syntheticText } from './synthetic';

const tinyClip = {
  projection_dim: 8,
  text_config: {
    vocab_size: 50,
    hidden_size: 16,
    intermediate_size: 32,
    num_hidden_layers: 1,
    num_attention_heads: 2,
    max_position_embeddings: 16,
    pad_token_id: 0,
    bos_token_id: 48,
    eos_token_id: 49,
  },
  vision_config: { image_size: 16, patch_size: 8, hidden_size: 16, intermediate_size: 32, num_hidden_layers: 1, num_attention_heads: 2 },
};
const tinyLlama = {
  model_type: 'llama',
  vocab_size: 40,
  hidden_size: 16,
  intermediate_size: 24,
  num_hidden_layers: 2,
  num_attention_heads: 4,
  num_key_value_heads: 2,
  max_position_embeddings: 64,
  pad_token_id: 0,
};

let registry: PluginRegistry;
const dirs: string[] = [];
beforeAll(async () => {
  registry = await benchRegistry();
});
afterAll(() => {
  for (const dir of dirs) fs.rmSync(dir, { recursive: true, force: true });
});

function experiment(type: 'clip' | 'llama', bench: Record<string, unknown>): Experiment {
  const value = {
    backend: { type: 'tfjs', prefer: ['wasm', 'cpu'] },
    model: { type, seed: 0, config: type === 'clip' ? tinyClip : tinyLlama },
    ...(type === 'clip' ? { loss: { type: 'clip' } } : { objective: { type: 'causal-lm' } }),
    train: { type: 'standard', lr: 1e-3, batch_size: 3 },
  };
  return {
    name: `tiny-${type}-ort`,
    file: `tiny-${type}-ort.yaml`,
    bench: benchConfigSchema.parse({ suites: ['full'], title: 'tiny', ...bench }),
    recipe: { file: `tiny-${type}-ort.yaml`, baseDir: '.', value, origins: new Map(), selections: [] },
  };
}

/** The experiment's model in tfjs and its export opened in onnxruntime-node (1 thread). */
async function exported(e: Experiment, file: string) {
  await selectEngine(e, registry);
  const model = await buildModel(e, registry);
  model.root.eval();
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'mmft-bench-ort-test-'));
  dirs.push(dir);
  await exportOnnx(model, dir);
  const session = await loadOrt().InferenceSession.create(path.join(dir, file), ortSessionOptions(1));
  return { model, session };
}

const maxAbs = (a: ArrayLike<number>, b: ArrayLike<number>) => Math.max(...Array.from(a, (v, i) => Math.abs(v - b[i]!)));

describe('bench.runtime', () => {
  test('defaults to tfjs; onnxruntime only for the kinds the exporter has graphs for', () => {
    expect(benchConfigSchema.parse({ kind: 'embed', suites: ['full'], title: 't' }).runtime).toBe('tfjs');
    for (const kind of ['embed', 'embed-text', 'prefill', 'decode']) {
      expect(benchConfigSchema.safeParse({ kind, runtime: 'onnxruntime', suites: ['full'], title: 't' }).success).toBe(true);
    }
    const train = benchConfigSchema.safeParse({ kind: 'train', runtime: 'onnxruntime', suites: ['full'], title: 't' });
    expect(train.success).toBe(false);
    expect(train.error?.issues[0]).toMatchObject({
      path: ['runtime'],
      message: expect.stringMatching(/embed, embed-text, prefill, decode, not kind train/),
    });
  });

  test('every shipped -ort experiment mirrors its tfjs sibling, which runs the peer', () => {
    const all = loadExperiments(registry);
    const ort = all.filter((e) => e.bench.runtime === 'onnxruntime');
    expect(ort.map((e) => e.name).sort()).toEqual(
      [
        'clip-small-embed-ort',
        'clip-small-embed-text-ort',
        'llama-small-decode-b1-ort',
        'llama-small-decode-b8-ort',
        'opt-small-decode-b1-ort',
        'opt-small-decode-b8-ort',
      ].sort(),
    );
    for (const e of ort) {
      const sibling = all.find((s) => s.name === e.name.replace(/-ort$/, ''))!;
      expect(sibling.bench).toMatchObject({ runtime: 'tfjs', peer: 'torch', kind: e.bench.kind });
      const { runtime: _a, peer: _b, title: _c, suites: _d, ...shape } = e.bench;
      const { runtime: _e, peer: _f, title: _g, suites: _h, ...siblingShape } = sibling.bench;
      expect(shape).toEqual(siblingShape);
      expect(e.recipe.value.model).toEqual(sibling.recipe.value.model);
      expect(e.bench.peer).toBe('none');
    }
  });
});

describe('CLIP embeddings on onnxruntime-node', () => {
  test('image rows time the tfjs model’s normalised image embeddings', async () => {
    const e = experiment('clip', { kind: 'embed', runtime: 'onnxruntime', batch_size: 3 });
    const { model, session } = await exported(e, 'vision_model.onnx');
    const spec = syntheticSpecOf(tinyClip, 3, 32);
    const pixels = syntheticPixels(spec, 1);
    const dims = [3, 3, 16, 16];
    const passes = await embedPasses(session, [{ pixel_values: new (loadOrt().Tensor)('float32', pixels, dims) }], 'image_embeds', 1, 2);
    expect(passes.times).toHaveLength(2);
    expect(passes.dims).toEqual([3, 8]);
    const expected = tf.tidy(() => {
      const f = (model as unknown as { getImageFeatures(i: { pixelValues: tf.Tensor }): tf.Tensor }).getImageFeatures({
        pixelValues: tf.tensor4d(pixels, dims as [number, number, number, number]),
      });
      return tf.div(f, tf.norm(f, 'euclidean', -1, true)).dataSync();
    });
    expect(maxAbs(passes.embeds, expected)).toBeLessThan(1e-4);
    await session.release();
    model.dispose();
  });

  test('text rows time the tfjs model’s normalised text embeddings of the padded synthetic texts', async () => {
    const e = experiment('clip', { kind: 'embed-text', runtime: 'onnxruntime', batch_size: 3, text_length: 12 });
    const { model, session } = await exported(e, 'text_model.onnx');
    const { ids, mask } = syntheticText(syntheticSpecOf(tinyClip, 3, 12), 0);
    expect(Array.from(mask)).toContain(0); // padding is in play
    const i64 = (v: Int32Array) => new (loadOrt().Tensor)('int64', BigInt64Array.from(v, BigInt), [3, 12]);
    const passes = await embedPasses(session, [{ input_ids: i64(ids), attention_mask: i64(mask) }], 'text_embeds', 0, 1);
    const expected = tf.tidy(() => {
      const f = (model as unknown as { getTextFeatures(i: { inputIds: tf.Tensor; attentionMask: tf.Tensor }): tf.Tensor }).getTextFeatures({
        inputIds: tf.tensor2d(ids, [3, 12], 'int32'),
        attentionMask: tf.tensor2d(mask, [3, 12], 'int32'),
      });
      return tf.div(f, tf.norm(f, 'euclidean', -1, true)).dataSync();
    });
    expect(maxAbs(passes.embeds, expected)).toBeLessThan(1e-4);
    await session.release();
    model.dispose();
  });

  test('a row runs every thread setting, samples as the kind says, and keeps the fastest', async () => {
    const e = experiment('clip', {
      kind: 'embed-text',
      runtime: 'onnxruntime',
      batch_size: 3,
      text_length: 12,
      warmup_steps: 1,
      timed_steps: 3,
    });
    const result = await runOnnxRuntime(e, registry, [2, 1]);
    const runs = (
      result.engine as { threadRuns: Array<{ threads: number; throughput: number; timing: { samples: number; medianMs: number } }> }
    ).threadRuns;
    expect(runs.map((r) => r.threads)).toEqual([2, 1]);
    for (const r of runs) {
      expect(r.timing.samples).toBe(3);
      expect(r.throughput).toBeCloseTo((1000 * 3) / r.timing.medianMs, 6);
    }
    expect(result.throughput).toBe(Math.max(...runs.map((r) => r.throughput)));
    expect(result).toMatchObject({
      side: 'mmft',
      unit: 'texts/s',
      engine: { name: 'onnxruntime-node', executionProvider: 'cpu', graph: 'text_model.onnx' },
    });
    expect((result.engine as { threads: number }).threads).toBe(runs.find((r) => r.throughput === result.throughput)!.threads);
    // 1 layer, T 12, D 16, I 32: 8·12·16² + 4·12·16·32 + 4·12²·16 = 24576 + 24576 + 9216; projection 2·16·8; 3 texts.
    expect(result.flops).toBe(3 * (24576 + 24576 + 9216 + 256));
  });

  test('the tfjs text row: texts/s over the timed passes; the peer gets the same batch', async () => {
    const e = experiment('clip', { kind: 'embed-text', batch_size: 3, text_length: 12, warmup_steps: 1, timed_steps: 2 });
    const result = await runEmbedText(e, registry);
    expect(result).toMatchObject({ side: 'mmft', unit: 'texts/s', timing: { samples: 2 } });
    expect(result.throughput).toBeCloseTo((1000 * 3) / result.timing.medianMs, 6);
    expect(result.flops).toBe(textEmbedFlops({ ...shapeOfTiny(), textLength: 12 }, 3));
    expect(peerSpec(e)).toMatchObject({ mode: 'embed-text', synthetic: { batch: 3, textLength: 12, eosId: 49, bosId: 48 } });
  });
});

function shapeOfTiny() {
  return {
    imageSize: 16,
    patchSize: 8,
    vision: { width: 16, layers: 1, mlp: 32 },
    text: { width: 16, layers: 1, mlp: 32 },
    textLength: 12,
    projection: 8,
  };
}

describe('causal-LM decode on onnxruntime-node', () => {
  test('the timed decode produces the tfjs model’s greedy generate() tokens; one sample per step after the first', async () => {
    const e = experiment('llama', { kind: 'decode', runtime: 'onnxruntime', batch_size: 2, text_length: 5, new_tokens: 6 });
    const { model, session } = await exported(e, 'model.onnx');
    const flat = lmPromptIds(lmSpecOf(tinyLlama, 2, 5));
    const prompt = [Array.from(flat.subarray(0, 5)), Array.from(flat.subarray(5, 10))];
    const decode = await decodePasses(session as OrtSession, prompt, 6, 'decode', 1, 2);
    expect(decode.samples).toHaveLength(2 * 5);
    if (!isCausalLanguageModel(model)) throw new Error('not a causal LM');
    const inputIds = tf.tensor2d(flat, [2, 5], 'int32');
    const expected = await model.generate({ inputIds, attentionMask: tf.onesLike(inputIds) }, benchGenerationOptions(6));
    expect(decode.tokens).toEqual(expected.sequences.map((row) => [...row]));
    const prefill = await decodePasses(session as OrtSession, prompt, 1, 'prefill', 0, 3);
    expect(prefill.samples).toHaveLength(3);
    expect(prefill.tokens.map((row) => row[0])).toEqual(expected.sequences.map((row) => row[0]));
    await session.release();
    model.dispose();
  });

  test('a decode row reports tokens/s = batch ÷ the median step of its fastest thread setting', async () => {
    const e = experiment('llama', {
      kind: 'decode',
      runtime: 'onnxruntime',
      batch_size: 2,
      text_length: 5,
      new_tokens: 4,
      warmup_steps: 0,
      timed_steps: 2,
    });
    const result = await runOnnxRuntime(e, registry, [1]);
    expect(result).toMatchObject({ unit: 'tokens/s', timing: { samples: 2 * 3 }, engine: { graph: 'model.onnx', threads: 1 } });
    expect(result.throughput).toBeCloseTo((1000 * 2) / result.timing.medianMs, 6);
  });
});

describe('normalizeRows', () => {
  test('divides each row by its Euclidean norm', () => {
    expect(Array.from(normalizeRows(Float32Array.from([3, 4, 0, 0, 5, 12]), 2))).toEqual(
      [0.6, 0.800000011920929, 0, 0, 5 / 13, 12 / 13].map(Math.fround),
    );
  });
});
