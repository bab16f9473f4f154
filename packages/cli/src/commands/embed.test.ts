// `mmft embed` on a tiny CLIP: each image row equals get_image_features of that image alone, from
// pixels computed here by hand ((v / 255 − mean) / std of a PNG written byte by byte: the 8×8 image
// needs no resize or crop at size 8), each text row get_text_features of that text alone; the rows
// are projected, not normalised (normalising them gives forward()'s embeds); index.jsonl ties texts
// to their image rows; shards computed apart and merged give the bytes of one whole pass; a model
// that is not a dual encoder and a record without texts are clear errors.
import '@tensorflow/tfjs-backend-cpu';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { afterAll, beforeAll, describe, expect, test } from '@jest/globals';
import * as tf from '@tensorflow/tfjs-core';
import { readSafetensors, saveAdapter } from '@mmft/core';
import { loraMethod } from '@mmft/peft-lora';
import { ClipModel, createTinyClipCheckpoint } from '@mmft/arch-clip';
import { createTinyLlamaCheckpoint } from '@mmft/arch-llama/testing';
import { createCliContext } from '../context';
import { runCliForTest } from '../testing';
import { writeTestPng } from './fixtures.test-helper';
import { mergeEmbedShards } from '../embed/merge';
import { embedRegistry, loadFeatureModel, openEmbedData, type EmbedSpec } from '../embed/model';
import { embedRange } from '../embed/range';

const BUILTINS = ['@mmft/backend-tfjs', '@mmft/arch-clip', '@mmft/arch-llama', '@mmft/data-jsonl', '@mmft/peft-lora'];
const MEAN = [0.48145466, 0.4578275, 0.40821073];
const STD = [0.26862954, 0.26130258, 0.27577711];
let tmp: string;
const pixels: Record<string, Uint8Array> = {};

const RECORDS = [
  { id: 'a', image: 'a.png', caption: ['a red circle', 'a circle'] },
  { id: 'b', image: 'b.png', caption: 'a blue square' },
  { id: 'c', image: 'c.png', caption: ['a green triangle', 'a triangle', 'green'] },
];

beforeAll(async () => {
  await tf.setBackend('cpu');
  tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'mmft-embed-'));
  await createTinyClipCheckpoint(path.join(tmp, 'clip'), { seed: 3 });
  await createTinyLlamaCheckpoint(path.join(tmp, 'llama'), { seed: 1 });
  fs.mkdirSync(path.join(tmp, 'data'));
  let s = 7;
  for (const name of ['a', 'b', 'c']) {
    const rgb = new Uint8Array(8 * 8 * 3).map(() => ((s = (s * 1103515245 + 12345) % 2147483648), s % 256));
    pixels[name] = rgb;
    writeTestPng(path.join(tmp, 'data', `${name}.png`), 8, 8, rgb);
  }
  fs.writeFileSync(path.join(tmp, 'data', 'caps.jsonl'), RECORDS.map((r) => JSON.stringify(r)).join('\n') + '\n');
});
afterAll(() => fs.rmSync(tmp, { recursive: true, force: true }));

const run = (argv: string[]) => runCliForTest(['embed', ...argv], { cwd: tmp, builtins: BUILTINS });

/** Pixels [1, 3, 8, 8] of an image, normalised by hand. */
function handPixels(name: string): tf.Tensor4D {
  const rgb = pixels[name]!;
  const chw = new Float32Array(3 * 64);
  for (let c = 0; c < 3; c++) for (let i = 0; i < 64; i++) chw[c * 64 + i] = (rgb[i * 3 + c]! / 255 - MEAN[c]!) / STD[c]!;
  return tf.tensor4d(chw, [1, 3, 8, 8]);
}

async function outputOf(dir: string) {
  const { tensors } = await readSafetensors(path.join(dir, 'embeddings.safetensors'));
  const index = fs
    .readFileSync(path.join(dir, 'index.jsonl'), 'utf8')
    .trim()
    .split('\n')
    .map((l) => JSON.parse(l) as Record<string, unknown>);
  return { image: tensors.get('image_embeds')!, text: tensors.get('text_embeds')!, index };
}

describe('mmft embed', () => {
  test('rows are get_image_features / get_text_features of each input alone, unnormalised; index ties texts to images', async () => {
    const r = await run(['clip', 'data/caps.jsonl', '--out', 'emb', '--batch-size', '2']);
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    expect(r.stdout).toContain('3 image and 6 text embeddings of width 4');
    const out = await outputOf(path.join(tmp, 'emb'));
    expect(out.image.dtype).toBe('F32');
    expect(out.image.shape).toEqual([3, 4]);
    expect(out.text.shape).toEqual([6, 4]);
    const model = await ClipModel.fromPretrained(path.join(tmp, 'clip'));
    try {
      const images = ['a', 'b', 'c'].map((n) =>
        tf.tidy(() => Array.from(model.getImageFeatures({ pixelValues: handPixels(n) }).dataSync())),
      );
      const texts = RECORDS.flatMap((r) => (typeof r.caption === 'string' ? [r.caption] : r.caption));
      const textRows = texts.map((t) => tf.tidy(() => Array.from(model.getTextFeatures(model.tokenize([t])).dataSync())));
      const got = (data: ArrayLike<number>, i: number) => Array.from(data).slice(i * 4, i * 4 + 4);
      images.forEach((row, i) => got(out.image.data as Float32Array, i).forEach((v, d) => expect(v).toBeCloseTo(row[d]!, 5)));
      textRows.forEach((row, i) => got(out.text.data as Float32Array, i).forEach((v, d) => expect(v).toBeCloseTo(row[d]!, 5)));
      // Projected, not normalised: dividing by the norm gives forward()'s image embeds.
      const norms = images.map((row) => Math.hypot(...row));
      expect(norms.some((n) => Math.abs(n - 1) > 1e-3)).toBe(true);
      const embeds = tf.tidy(() => model.forward({ pixelValues: handPixels('a') }).imageEmbeds!.arraySync() as number[][]);
      embeds[0]!.forEach((v, d) => expect(v).toBeCloseTo(images[0]![d]! / norms[0]!, 5));
      expect(out.index.slice(0, 3)).toEqual([
        { kind: 'image', row: 0, id: 'a', image: path.join(tmp, 'data', 'a.png') },
        { kind: 'image', row: 1, id: 'b', image: path.join(tmp, 'data', 'b.png') },
        { kind: 'image', row: 2, id: 'c', image: path.join(tmp, 'data', 'c.png') },
      ]);
      expect(out.index.slice(3).map((r) => [r.kind, r.row, r.id, r.text, r.image_row])).toEqual([
        ['text', 0, 'a', 'a red circle', 0],
        ['text', 1, 'a', 'a circle', 0],
        ['text', 2, 'b', 'a blue square', 1],
        ['text', 3, 'c', 'a green triangle', 2],
        ['text', 4, 'c', 'a triangle', 2],
        ['text', 5, 'c', 'green', 2],
      ]);
    } finally {
      model.dispose();
    }
  });

  test('shards of whole batches merged in order give the bytes of one whole pass', async () => {
    const ctx = createCliContext({ isTTY: false, cwd: tmp, builtins: BUILTINS });
    const spec: EmbedSpec = { modelDir: path.join(tmp, 'clip'), data: path.join(tmp, 'data', 'caps.jsonl'), batchSize: 2, plugin: [] };
    const registry = await embedRegistry(ctx, []);
    const model = await loadFeatureModel(registry, spec);
    try {
      const data = await openEmbedData(registry, spec.data);
      const whole = mergeEmbedShards([await embedRange(model, data, { start: 0, end: 3 }, 2)]);
      const parts = mergeEmbedShards([
        await embedRange(model, data, { start: 0, end: 2 }, 2),
        await embedRange(model, data, { start: 2, end: 3 }, 2),
      ]);
      expect(Buffer.from(parts.safetensors).equals(Buffer.from(whole.safetensors))).toBe(true);
      expect(parts.index).toBe(whole.index);
      const { index } = await outputOf(path.join(tmp, 'emb'));
      expect(whole.index).toBe(index.map((r) => JSON.stringify(r)).join('\n') + '\n');
      expect(Buffer.from(whole.safetensors).equals(fs.readFileSync(path.join(tmp, 'emb', 'embeddings.safetensors')))).toBe(true);
    } finally {
      model.dispose();
    }
  });

  test('--adapter: the rows are the features of base + LoRA', async () => {
    const model = await ClipModel.fromPretrained(path.join(tmp, 'clip'));
    let expected: number[];
    let base: number[];
    try {
      base = tf.tidy(() => Array.from(model.getImageFeatures({ pixelValues: handPixels('b') }).dataSync()));
      const config = loraMethod.configSchema.parse({ r: 2, lora_alpha: 4, target_modules: ['q_proj', 'v_proj', 'fc1'], seed: 1 });
      const applied = loraMethod.apply(model.root, config, 'default');
      applied.trainableParameters().forEach(([, v], i) => tf.tidy(() => v.assign(tf.randomNormal(v.shape, 0, 0.3, 'float32', i))));
      expected = tf.tidy(() => Array.from(model.getImageFeatures({ pixelValues: handPixels('b') }).dataSync()));
      await saveAdapter(path.join(tmp, 'lora'), loraMethod, config, applied, { baseModelNameOrPath: path.join(tmp, 'clip') });
    } finally {
      model.dispose();
    }
    const r = await run(['clip', 'data/caps.jsonl', '--out', 'emb-lora', '--adapter', 'lora']);
    expect(r.stderr).toBe('');
    const out = await outputOf(path.join(tmp, 'emb-lora'));
    const row = Array.from(out.image.data as Float32Array).slice(4, 8);
    row.forEach((v, d) => expect(v).toBeCloseTo(expected[d]!, 5));
    expect(row.some((v, d) => Math.abs(v - base[d]!) > 1e-3)).toBe(true);
  });

  test('a model that is not a dual encoder is refused, naming its config', async () => {
    const r = await run(['llama', 'data/caps.jsonl', '--out', 'emb-llama']);
    expect(r.code).not.toBe(0);
    expect(r.stderr).toContain(path.join(tmp, 'llama', 'config.json'));
    expect(r.stderr).toContain('not a dual encoder');
  });

  test('a record without texts is refused with its file and line', async () => {
    const file = path.join(tmp, 'data', 'vqa.jsonl');
    fs.writeFileSync(file, JSON.stringify({ image: 'a.png', question: 'what?', answer: 'red' }) + '\n');
    const r = await run(['clip', 'data/vqa.jsonl', '--out', 'emb-vqa']);
    expect(r.code).not.toBe(0);
    expect(r.stderr).toContain(`${file}:1`);
    expect(r.stderr).toContain('caption and retrieval records');
  });

  test('--shard-size must hold whole batches with --queue', async () => {
    const r = await run([
      'clip',
      'data/caps.jsonl',
      '--out',
      'emb-q',
      '--batch-size',
      '2',
      '--shard-size',
      '3',
      '--queue',
      'redis://127.0.0.1:1',
    ]);
    expect(r.code).not.toBe(0);
    expect(r.stderr).toContain('--shard-size 3 is not a multiple of --batch-size 2');
  });
});
