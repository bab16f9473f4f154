// The three CLIP graphs on a tiny seeded CLIP, run in onnxruntime-node and compared with an
// independent float64 forward pass (src/testing/reference-clip.ts): names and order of inputs and
// outputs as optimum / transformers.js expect them, padded text, batches, the legacy eos rule.
import { promises as fs } from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import * as ort from 'onnxruntime-node';
import { clipFields, clipGraph, type ClipFields } from './clip';
import { writeOnnxModel } from './onnx/graph';
import { lookupOf, referenceClip, referenceTextFeatures, TINY_CLIP, tinyClipWeights } from './testing/reference-clip';

let dir: string;
beforeAll(async () => {
  dir = await fs.mkdtemp(path.join(os.tmpdir(), 'mmft-onnx-clip-'));
});
afterAll(async () => {
  await fs.rm(dir, { recursive: true, force: true });
});

const weights = lookupOf(tinyClipWeights(TINY_CLIP, 7));
// Right-padded, as CLIP's tokenizer pads: row 0 is the longest, row 1 has two pad slots after its eos.
const IDS = [
  [10, 3, 4, 5, 11],
  [10, 6, 11, 0, 0],
  [10, 7, 8, 11, 0],
];
const MASK = IDS.map((row, i) => row.map((_, j) => (i === 0 || j < [5, 3, 4][i]! ? 1 : 0)));
const SIZE = TINY_CLIP.vision_config.image_size;
const image = (seed: number) => Float32Array.from({ length: 3 * SIZE * SIZE }, (_, i) => Math.sin(seed * 7.1 + i * 0.37) * 1.5);
const IMAGES = [image(1), image(2)];

const int64 = (rows: number[][]) => new ort.Tensor('int64', BigInt64Array.from(rows.flat().map(BigInt)), [rows.length, rows[0]!.length]);
const pixels = (images: Float32Array[]) => {
  const data = new Float32Array(images.length * 3 * SIZE * SIZE);
  images.forEach((im, i) => data.set(im, i * im.length));
  return new ort.Tensor('float32', data, [images.length, 3, SIZE, SIZE]);
};

async function session(part: 'model' | 'text_model' | 'vision_model', fields: ClipFields = TINY_CLIP): Promise<ort.InferenceSession> {
  const file = path.join(dir, `${part}-${fields.text_config.eos_token_id}.onnx`);
  await writeOnnxModel(clipGraph(part, fields, weights), file);
  return ort.InferenceSession.create(file, { executionProviders: ['cpu'] });
}

function expectClose(got: ort.Tensor | undefined, want: number[][], tolerance = 1e-5): void {
  expect(got!.dims).toEqual([want.length, want[0]!.length]);
  const flat = want.flat();
  const data = got!.data as Float32Array;
  const worst = Math.max(...flat.map((v, i) => Math.abs(v - data[i]!)));
  expect(worst).toBeLessThan(tolerance);
}

describe('CLIP graphs against a float64 reference', () => {
  const ref = referenceClip(TINY_CLIP, weights, IDS, MASK, IMAGES);

  it('model.onnx: optimum names in order; logits and normalised embeds for 3 padded texts × 2 images', async () => {
    const s = await session('model');
    expect(s.inputNames).toEqual(['input_ids', 'pixel_values', 'attention_mask']);
    expect(s.outputNames).toEqual(['logits_per_image', 'logits_per_text', 'text_embeds', 'image_embeds']);
    const out = await s.run({ input_ids: int64(IDS), attention_mask: int64(MASK), pixel_values: pixels(IMAGES) });
    await s.release();
    expectClose(out.logits_per_text, ref.logitsPerText, 1e-4);
    expectClose(
      out.logits_per_image,
      ref.logitsPerText[0]!.map((_, j) => ref.logitsPerText.map((r) => r[j]!)),
      1e-4,
    );
    expectClose(out.text_embeds, ref.textEmbeds);
    expectClose(out.image_embeds, ref.imageEmbeds);
    // The logits are not flat: the test would notice a wrong mask or pooling index.
    const spread = Math.max(...ref.logitsPerText.flat()) - Math.min(...ref.logitsPerText.flat());
    expect(spread).toBeGreaterThan(0.5);
  });

  it('text_model.onnx / vision_model.onnx: unnormalised projections and last_hidden_state', async () => {
    const text = await session('text_model');
    expect(text.inputNames).toEqual(['input_ids', 'attention_mask']);
    expect(text.outputNames).toEqual(['text_embeds', 'last_hidden_state']);
    const t = await text.run({ input_ids: int64(IDS), attention_mask: int64(MASK) });
    await text.release();
    expectClose(t.text_embeds, ref.textFeatures);
    expect(t.last_hidden_state!.dims).toEqual([3, 5, 8]);
    const vision = await session('vision_model');
    expect(vision.inputNames).toEqual(['pixel_values']);
    expect(vision.outputNames).toEqual(['image_embeds', 'last_hidden_state']);
    const v = await vision.run({ pixel_values: pixels(IMAGES) });
    await vision.release();
    expectClose(v.image_embeds, ref.imageFeatures);
    expect(v.last_hidden_state!.dims).toEqual([2, 5, 8]); // (4/2)² patches + class token
  });

  it('padding is invisible: a text alone gives what it gives inside the padded batch', async () => {
    const text = await session('text_model');
    const alone = await text.run({ input_ids: int64([[10, 6, 11]]), attention_mask: int64([[1, 1, 1]]) });
    await text.release();
    expectClose(alone.text_embeds, [ref.textFeatures[1]!]);
  });

  it('eos_token_id 2 pools at the argmax of the ids (transformers legacy rule)', async () => {
    const legacy: ClipFields = { ...TINY_CLIP, text_config: { ...TINY_CLIP.text_config, eos_token_id: 2 } };
    const ids = [[3, 10, 4, 9, 5]]; // the max id sits at 1; the first 4 (an eos under another config) at 2
    const mask = [[1, 1, 1, 1, 1]];
    const text = await session('text_model', legacy);
    const out = await text.run({ input_ids: int64(ids), attention_mask: int64(mask) });
    await text.release();
    const want = referenceTextFeatures(legacy, weights, ids[0]!, mask[0]!);
    expectClose(out.text_embeds, [want]);
    const eos4: ClipFields = { ...TINY_CLIP, text_config: { ...TINY_CLIP.text_config, eos_token_id: 4 } };
    const other = referenceTextFeatures(eos4, weights, ids[0]!, mask[0]!);
    expect(Math.max(...want.map((v, i) => Math.abs(v - other[i]!)))).toBeGreaterThan(1e-3); // the two rules pool different rows
  });

  it('with weights over the external-data threshold, model.onnx_data holds them and the outputs do not change', async () => {
    const file = path.join(dir, 'external', 'model.onnx');
    const { files } = await writeOnnxModel(clipGraph('model', TINY_CLIP, weights), file, {
      externalDataThreshold: 4096,
      externalDataMinBytes: 128,
    });
    expect(files).toEqual([file, `${file}_data`]);
    expect((await fs.stat(file)).size).toBeLessThan((await fs.stat(`${file}_data`)).size);
    const s = await ort.InferenceSession.create(file, { executionProviders: ['cpu'] });
    const out = await s.run({ input_ids: int64(IDS), attention_mask: int64(MASK), pixel_values: pixels(IMAGES) });
    await s.release();
    expectClose(out.logits_per_text, ref.logitsPerText, 1e-4);
    expectClose(out.image_embeds, ref.imageEmbeds);
  });

  it('clipFields reads a parsed config and names a missing field', () => {
    const config = { projection_dim: 4, text_config: { ...TINY_CLIP.text_config }, vision_config: { ...TINY_CLIP.vision_config } };
    expect(clipFields(config)).toEqual(TINY_CLIP);
    expect(() => clipFields({ ...config, vision_config: { ...config.vision_config, patch_size: undefined } })).toThrow(
      /CLIP config vision_config\.patch_size must be a number, got undefined/,
    );
  });
});
