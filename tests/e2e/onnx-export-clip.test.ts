// CLIP exported to ONNX and run in onnxruntime-node against the tfjs model it came from: the
// embedded models/clip-shapes-base, and the same model with a LoRA adapter merged in (compared
// with the unmerged base + adapter). Batches of 2 images and 3 padded texts, and padding checked
// on its own: a text alone and the same text padded in a batch give the same embedding.
// The realm shim must load before onnxruntime-node (see packages/plugins/exporter-onnx/jest.ort-realm.js).
import '@mmft/exporter-onnx/jest-ort-realm';
import 'reflect-metadata';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { afterAll, beforeAll, describe, expect, test } from '@jest/globals';
import * as tf from '@tensorflow/tfjs-core';
import { createCliContext } from '@mmft/cli';
import { architectureContext, type PluginRegistry, type VisionLanguageModel } from '@mmft/core';
import { checkParity, exportOnnx, maxAbsDiff, runOnnx } from '@mmft/exporter-onnx';

const BASE = resolve(__dirname, '..', '..', 'models', 'clip-shapes-base');
const TEXTS = ['a red circle', 'a small blue square left of a green triangle', 'two shapes'];

type Clip = VisionLanguageModel & {
  getTextFeatures(i: { inputIds: tf.Tensor; attentionMask?: tf.Tensor }): tf.Tensor;
  getImageFeatures(i: { pixelValues: tf.Tensor }): tf.Tensor;
};

let registry: PluginRegistry;
const dir = mkdtempSync(join(tmpdir(), 'onnx-clip-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

beforeAll(async () => {
  registry = await createCliContext({ isTTY: false }).createRegistry();
  const backend = registry.resolve('backend', 'tfjs');
  await backend.select(backend.configSchema.parse({ prefer: ['cpu'] }));
});

const load = async (): Promise<Clip> =>
  (await registry.resolveModelType('clip').fromPretrained(BASE, {}, architectureContext(registry))) as Clip;

/** Deterministic pixels in [-2, 2). */
function pixels(count: number, size: number, seed: number): Float32Array {
  const out = new Float32Array(count * 3 * size * size);
  let s = seed;
  for (let i = 0; i < out.length; i++) {
    s = (s * 1103515245 + 12345) % 2147483648;
    out[i] = (s / 2147483648) * 4 - 2;
  }
  return out;
}

describe('CLIP → ONNX → onnxruntime-node', () => {
  test('clip-shapes-base: every output within 1e-4 of tfjs; padding and batching change nothing', async () => {
    const model = await load();
    const out = join(dir, 'base');
    try {
      const { models, files } = await exportOnnx(model, out, { sourceDir: BASE });
      expect(models.map((f) => f.slice(out.length + 1))).toEqual(['model.onnx', 'text_model.onnx', 'vision_model.onnx']);
      const names = files.map((f) => f.slice(out.length + 1));
      for (const side of [
        'config.json',
        'tokenizer.json',
        'tokenizer_config.json',
        'special_tokens_map.json',
        'preprocessor_config.json',
      ]) {
        expect(names).toContain(side);
      }
      expect(readFileSync(join(out, 'preprocessor_config.json'), 'utf8')).toBe(
        readFileSync(join(BASE, 'preprocessor_config.json'), 'utf8'),
      );

      const report = await checkParity(model, out, { texts: TEXTS, images: 2 });
      expect(report.rows.map((r) => `${r.file}:${r.output}:${r.dims.join('x')}`)).toEqual([
        'model.onnx:logits_per_image:2x3',
        'model.onnx:logits_per_text:3x2',
        'model.onnx:text_embeds:3x128',
        'model.onnx:image_embeds:2x128',
        'text_model.onnx:text_embeds:3x128',
        'vision_model.onnx:image_embeds:2x128',
      ]);
      for (const row of report.rows) expect(row.maxAbsDiff).toBeLessThanOrEqual(1e-4);
      expect(report.ok).toBe(true);

      // Padding: the first text alone (no pad) and inside the padded batch give one embedding, and
      // it is tfjs's get_text_features of the text alone.
      const batch = model.tokenizer!.encode(TEXTS, { padding: 'longest' });
      const alone = model.tokenizer!.encode([TEXTS[0]!]);
      expect(batch.attentionMask[0]!.includes(0)).toBe(true);
      const textFile = join(out, 'text_model.onnx');
      const padded = await runOnnx(textFile, { input_ids: { int64: batch.inputIds }, attention_mask: { int64: batch.attentionMask } });
      const single = await runOnnx(textFile, { input_ids: { int64: alone.inputIds }, attention_mask: { int64: alone.attentionMask } });
      const width = single.text_embeds!.dims[1]!;
      expect(maxAbsDiff(padded.text_embeds!.data.subarray(0, width), single.text_embeds!.data)).toBeLessThanOrEqual(1e-5);
      const tfjsAlone = tf.tidy(() => model.getTextFeatures({ inputIds: tf.tensor2d(alone.inputIds, undefined, 'int32') }).dataSync());
      expect(maxAbsDiff(single.text_embeds!.data, tfjsAlone)).toBeLessThanOrEqual(1e-4);

      // Batching: the second of two images gives what it gives alone.
      const size = (model.config.vision_config as { image_size: number }).image_size;
      const two = pixels(2, size, 7);
      const visionFile = join(out, 'vision_model.onnx');
      const both = await runOnnx(visionFile, { pixel_values: { float32: two, dims: [2, 3, size, size] } });
      const second = await runOnnx(visionFile, { pixel_values: { float32: two.slice(3 * size * size), dims: [1, 3, size, size] } });
      expect(maxAbsDiff(both.image_embeds!.data.subarray(width), second.image_embeds!.data)).toBeLessThanOrEqual(1e-5);
    } finally {
      model.dispose();
    }
  });

  test('a LoRA-adapted CLIP, merged at export, matches the unmerged base + adapter within 1e-4', async () => {
    const model = await load();
    try {
      const lora = registry.resolve('peft', 'lora');
      const config = lora.configSchema.parse({
        r: 4,
        lora_alpha: 8,
        target_modules: ['q_proj', 'v_proj', 'out_proj', 'fc1', 'fc2'],
        seed: 3,
      });
      const applied = lora.apply(model.root, config, 'default');
      // Non-zero B (PEFT starts it at zero): the adapter must change the outputs for the test to mean anything.
      applied.trainableParameters().forEach(([, v], i) => tf.tidy(() => v.assign(tf.randomNormal(v.shape, 0, 0.1, 'float32', 100 + i))));
      const size = (model.config.vision_config as { image_size: number }).image_size;
      const pix = pixels(2, size, 11);
      const { inputIds, attentionMask } = model.tokenizer!.encode(TEXTS, { padding: 'longest' });
      const forward = () =>
        tf.tidy(() => {
          const o = model.forward({
            pixelValues: tf.tensor4d(pix, [2, 3, size, size]),
            inputIds: tf.tensor2d(inputIds, undefined, 'int32'),
            attentionMask: tf.tensor2d(attentionMask, undefined, 'int32'),
          }) as Record<string, tf.Tensor>;
          return { logits: o.logitsPerImage!.dataSync(), text: o.textEmbeds!.dataSync(), image: o.imageEmbeds!.dataSync() };
        });
      const unmerged = forward();
      applied.merge!();
      applied.remove();
      const out = join(dir, 'lora');
      await exportOnnx(model, out, { sourceDir: BASE });
      const got = await runOnnx(join(out, 'model.onnx'), {
        input_ids: { int64: inputIds },
        attention_mask: { int64: attentionMask },
        pixel_values: { float32: pix, dims: [2, 3, size, size] },
      });
      expect(maxAbsDiff(got.logits_per_image!.data, unmerged.logits)).toBeLessThanOrEqual(1e-4);
      expect(maxAbsDiff(got.text_embeds!.data, unmerged.text)).toBeLessThanOrEqual(1e-4);
      expect(maxAbsDiff(got.image_embeds!.data, unmerged.image)).toBeLessThanOrEqual(1e-4);
      // ...and the adapter mattered: the plain base export is far from these logits.
      const plain = await runOnnx(join(dir, 'base', 'model.onnx'), {
        input_ids: { int64: inputIds },
        attention_mask: { int64: attentionMask },
        pixel_values: { float32: pix, dims: [2, 3, size, size] },
      });
      expect(maxAbsDiff(plain.logits_per_image!.data, unmerged.logits)).toBeGreaterThan(1e-2);
      const report = await checkParity(model, out, { texts: TEXTS });
      expect(report.maxAbsDiff).toBeLessThanOrEqual(1e-4);
    } finally {
      model.dispose();
    }
  });
});
