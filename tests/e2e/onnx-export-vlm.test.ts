// LLaVA and BLIP-2 exported in the transformers.js layout (onnx/vision_encoder.onnx, embed_tokens.onnx,
// decoder_model_merged.onnx) from the embedded models/llava-shapes-base (image tokens scattered into the
// text, CLIP tower with the full strategy, Llama with grouped-query attention) and models/blip2-shapes-base
// (Q-Former queries prepended, image_token_index null; OPT with a tied head): in onnxruntime-node the
// prompt logits of a left-padded batch of two images match the tfjs model within 1e-4, and greedy
// decoding through the KV cache gives the tfjs model's greedy generate() token for token.
import '@mmft/exporter-onnx/jest-ort-realm';
import 'reflect-metadata';
import { afterAll, beforeAll, describe, expect, test } from '@jest/globals';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { Writable } from 'node:stream';
import * as tf from '@tensorflow/tfjs-core';
import { createCliContext } from '@mmft/cli';
import { architectureContext, parseConfig, type PluginRegistry, type VisionLanguageModel } from '@mmft/core';
import { exportOnnx, generateVlmOnnx, vlmPromptLogits } from '@mmft/exporter-onnx';

const MODELS = path.resolve(__dirname, '..', '..', 'models');
const TEXTS = ['what is in the picture ?', 'how many circles'];
const NEW_TOKENS = 10;
let dir: string;
let registry: PluginRegistry;

beforeAll(async () => {
  dir = fs.mkdtempSync(path.join(os.tmpdir(), 'mmft-onnx-vlm-e2e-'));
  const quiet = new Writable({ write: (_c, _e, done) => done() });
  const builtins = ['@mmft/backend-tfjs', '@mmft/arch-clip', '@mmft/arch-llama', '@mmft/arch-llava', '@mmft/arch-opt', '@mmft/arch-blip2'];
  registry = await createCliContext({ stdout: quiet, stderr: quiet, builtins }).createRegistry();
  const backend = registry.list('backend').find((b) => b.id === 'tfjs')!;
  await backend.select(parseConfig(backend, {}));
});
afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));

/** Deterministic pixels in [-1, 1) for `n` images of 3 × size × size. */
function pixels(n: number, size: number): Float32Array {
  let s = 12345;
  return Float32Array.from({ length: n * 3 * size * size }, () => ((s = (s * 1103515245 + 12345) % 2 ** 31) / 2 ** 30) - 1);
}

describe.each([
  ['llava-shapes-base', 'llava'],
  ['blip2-shapes-base', 'blip-2'],
])('ONNX export of models/%s', (name, type) => {
  let model: VisionLanguageModel;
  let out: string;
  let ids: number[][];
  let mask: number[][];
  const size = 64;
  const pix = pixels(2, size);

  beforeAll(async () => {
    const source = path.join(MODELS, name);
    model = await registry.resolveModelType(type).fromPretrained(source, {}, architectureContext(registry));
    out = path.join(dir, name);
    await exportOnnx(model, out, { sourceDir: source });
    // Prompts as the processor lays them out: LLaVA bos, image_seq_length image tokens, the text;
    // legacy BLIP-2 the text alone (the queries go in front of it). Left-padded to one length.
    const config = model.config as Record<string, unknown>;
    const tokenizer = model.tokenizer!;
    const text = config.text_config as Record<string, number>;
    const bos = text.bos_token_id!;
    const rows = TEXTS.map((t) => {
      const body = tokenizer.encode([t]).inputIds[0]!.filter((id) => id !== bos);
      return type === 'llava' ? [bos, ...new Array<number>(config.image_seq_length as number).fill(config.image_token_index as number), ...body] : [bos, ...body];
    });
    const length = Math.max(...rows.map((r) => r.length));
    const pad = text.pad_token_id!;
    ids = rows.map((r) => [...new Array<number>(length - r.length).fill(pad), ...r]);
    mask = rows.map((r) => [...new Array<number>(length - r.length).fill(0), ...r.map(() => 1)]);
  });
  afterAll(() => model.dispose());

  test('writes the three graphs under onnx/ and the configs beside them', () => {
    for (const file of ['onnx/vision_encoder.onnx', 'onnx/embed_tokens.onnx', 'onnx/decoder_model_merged.onnx', 'config.json', 'tokenizer.json', 'preprocessor_config.json'])
      expect(fs.existsSync(path.join(out, file))).toBe(true);
    expect(mask.some((row) => row[0] === 0)).toBe(true); // the batch really is left-padded
  });

  test('prompt logits match the tfjs model within 1e-4 at every attended position', async () => {
    const onnx = await vlmPromptLogits(out, { data: pix, dims: [2, 3, size, size] }, ids, { attentionMask: mask });
    const inputIds = tf.tensor2d(ids, [2, ids[0]!.length], 'int32');
    const attentionMask = tf.tensor2d(mask, [2, ids[0]!.length], 'int32');
    const pixelValues = tf.tensor4d(pix, [2, 3, size, size]);
    const logits = model.forward({ inputIds, attentionMask, pixelValues }).logits;
    const expected = logits.dataSync() as Float32Array;
    expect(onnx.dims).toEqual(logits.shape);
    const [rows, length, vocab] = onnx.dims;
    tf.dispose([inputIds, attentionMask, pixelValues, logits]);
    let max = 0;
    let compared = 0;
    for (let r = 0; r < rows; r++)
      for (let t = 0; t < length; t++) {
        if (onnx.attentionMask[r]![t] === 0) continue;
        compared += 1;
        for (let v = 0; v < vocab; v++) max = Math.max(max, Math.abs(onnx.data[(r * length + t) * vocab + v]! - expected[(r * length + t) * vocab + v]!));
      }
    expect(compared).toBeGreaterThan(2 * 6);
    expect(max).toBeLessThanOrEqual(1e-4);
  });

  test('greedy decoding through the KV cache equals the tfjs model’s greedy generate(), token for token', async () => {
    const inputIds = tf.tensor2d(ids, [2, ids[0]!.length], 'int32');
    const attentionMask = tf.tensor2d(mask, [2, ids[0]!.length], 'int32');
    const pixelValues = tf.tensor4d(pix, [2, 3, size, size]);
    const expected = await model.generate({ inputIds, attentionMask, pixelValues }, { maxNewTokens: NEW_TOKENS, doSample: false });
    tf.dispose([inputIds, attentionMask, pixelValues]);
    const tokens = await generateVlmOnnx(out, { data: pix, dims: [2, 3, size, size] }, ids, NEW_TOKENS, { attentionMask: mask });
    expect(tokens).toEqual(expected.sequences);
    expect(tokens.flat().length).toBeGreaterThan(2);
  });
});
