// checkParity on a stand-in CLIP whose forward is the float64 reference (src/testing/reference-clip.ts):
// every output of the three graphs within float32 rounding, and a model that drifts by 2e-3 on one
// output is reported (ok false, that row ≈ 2e-3, the others untouched).
import '@tensorflow/tfjs-backend-cpu';
import { promises as fs } from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import * as tf from '@tensorflow/tfjs-core';
import type { VisionLanguageModel } from '@mmft/core';
import { CLIP_PARTS, clipGraph } from './clip';
import { writeOnnxModel } from './onnx/graph';
import { checkParity, maxAbsDiff, runOnnx } from './parity';
import { lookupOf, referenceClip, TINY_CLIP, tinyClipWeights } from './testing/reference-clip';

const weights = lookupOf(tinyClipWeights(TINY_CLIP, 3));
const IDS = [
  [10, 3, 4, 11],
  [10, 5, 11, 0],
];
const MASK = [
  [1, 1, 1, 1],
  [1, 1, 1, 0],
];
let dir: string;

beforeAll(async () => {
  await tf.setBackend('cpu');
  dir = await fs.mkdtemp(path.join(os.tmpdir(), 'mmft-onnx-parity-'));
  for (const part of CLIP_PARTS) await writeOnnxModel(clipGraph(part, TINY_CLIP, weights), path.join(dir, `${part}.onnx`));
});
afterAll(async () => {
  await fs.rm(dir, { recursive: true, force: true });
});

/** A CLIP-shaped model whose outputs come from the reference; `drift` is added to logits_per_image. */
function standIn(drift = 0): VisionLanguageModel {
  const size = TINY_CLIP.vision_config.image_size;
  const run = (ids?: tf.Tensor, mask?: tf.Tensor, pixels?: tf.Tensor) => {
    const idRows = ids ? (ids.arraySync() as number[][]) : [];
    const maskRows = mask ? (mask.arraySync() as number[][]) : idRows.map((r) => r.map(() => 1));
    const flat = pixels ? (pixels.dataSync() as Float32Array) : new Float32Array(0);
    const per = 3 * size * size;
    const images = Array.from({ length: flat.length / per }, (_, i) => flat.slice(i * per, (i + 1) * per));
    return referenceClip(TINY_CLIP, weights, idRows, maskRows, images);
  };
  return {
    modelType: 'clip',
    config: TINY_CLIP,
    tokenizer: { encode: () => ({ inputIds: IDS, attentionMask: MASK }) },
    forward: ({ inputIds, attentionMask, pixelValues }: { inputIds: tf.Tensor; attentionMask: tf.Tensor; pixelValues: tf.Tensor }) => {
      const r = run(inputIds, attentionMask, pixelValues);
      const perImage = r.logitsPerText[0]!.map((_, j) => r.logitsPerText.map((row) => row[j]! + drift));
      return {
        textEmbeds: tf.tensor2d(r.textEmbeds),
        imageEmbeds: tf.tensor2d(r.imageEmbeds),
        logitsPerText: tf.tensor2d(r.logitsPerText),
        logitsPerImage: tf.tensor2d(perImage),
      };
    },
    getTextFeatures: ({ inputIds, attentionMask }: { inputIds: tf.Tensor; attentionMask?: tf.Tensor }) =>
      tf.tensor2d(run(inputIds, attentionMask).textFeatures),
    getImageFeatures: ({ pixelValues }: { pixelValues: tf.Tensor }) => tf.tensor2d(run(undefined, undefined, pixelValues).imageFeatures),
  } as unknown as VisionLanguageModel;
}

describe('checkParity', () => {
  it('reports every output of the three graphs, all within float32 rounding of the reference', async () => {
    const report = await checkParity(standIn(), dir, { images: 3 });
    expect(report.rows.map((r) => [r.file, r.output, r.dims])).toEqual([
      ['model.onnx', 'logits_per_image', [3, 2]],
      ['model.onnx', 'logits_per_text', [2, 3]],
      ['model.onnx', 'text_embeds', [2, 4]],
      ['model.onnx', 'image_embeds', [3, 4]],
      ['text_model.onnx', 'text_embeds', [2, 4]],
      ['vision_model.onnx', 'image_embeds', [3, 4]],
    ]);
    expect(report.maxAbsDiff).toBeLessThan(1e-5);
    expect(report.ok).toBe(true);
  });

  it('a drift of 2e-3 on one output fails the 1e-4 bound and is reported on that row only', async () => {
    const report = await checkParity(standIn(2e-3), dir);
    expect(report.ok).toBe(false);
    const byOutput = Object.fromEntries(report.rows.map((r) => [`${r.file}:${r.output}`, r.maxAbsDiff]));
    expect(byOutput['model.onnx:logits_per_image']).toBeCloseTo(2e-3, 5);
    expect(byOutput['model.onnx:logits_per_text']).toBeLessThan(1e-5);
    expect(report.maxAbsDiff).toBe(byOutput['model.onnx:logits_per_image']);
    expect((await checkParity(standIn(2e-3), dir, { tolerance: 1e-2 })).ok).toBe(true);
  });

  it('refuses model types it has no check for', async () => {
    await expect(checkParity({ ...standIn(), modelType: 'siglip' } as VisionLanguageModel, dir)).rejects.toThrow(
      /no ONNX parity check for model_type "siglip"/,
    );
  });
});

describe('maxAbsDiff and runOnnx', () => {
  it('maxAbsDiff: the largest gap; NaN or a length mismatch is Infinity', () => {
    expect(maxAbsDiff([1, 2, 3], [1, 2.5, 2.75])).toBe(0.5);
    expect(maxAbsDiff([1, NaN], [1, 1])).toBe(Infinity);
    expect(maxAbsDiff([1], [1, 2])).toBe(Infinity);
  });

  it('runOnnx feeds plain arrays and returns float outputs with their dims', async () => {
    const out = await runOnnx(path.join(dir, 'text_model.onnx'), { input_ids: { int64: IDS }, attention_mask: { int64: MASK } });
    const ref = referenceClip(TINY_CLIP, weights, IDS, MASK, []);
    expect(out.text_embeds!.dims).toEqual([2, 4]);
    expect(maxAbsDiff(out.text_embeds!.data, ref.textFeatures.flat())).toBeLessThan(1e-5);
    await expect(runOnnx(path.join(dir, 'text_model.onnx'), { input_ids: { int64: IDS } })).rejects.toThrow(
      /no value for input\(s\) attention_mask/,
    );
  });
});
