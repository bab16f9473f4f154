// LLaVA and BLIP-2 exported in the transformers.js layout (onnx/vision_encoder.onnx, embed_tokens.onnx,
// decoder_model_merged.onnx) from the embedded models/llava-shapes-base (image tokens scattered into the
// text, CLIP tower with the full strategy, Llama with grouped-query attention) and models/blip2-shapes-base
// (Q-Former queries prepended, image_token_index null; OPT with a tied head): in onnxruntime-node the
// prompt logits of a left-padded batch of two images match the tfjs model within 1e-4, and greedy
// decoding through the KV cache gives the tfjs model's greedy generate() token for token. The same
// holds with --keep-4bit for QLoRA-style NF4 models (every Linear but lm_head in 4 bits, double
// quantisation): the graphs take the `_bnb4` names with com.microsoft MatMulBnb4 and match the tfjs
// 4-bit model. `mmft export onnx --check` and `--keep-4bit --check` run end to end through the CLI.
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
import { quantizeLinears4bit } from '@mmft/core/nn';
import { runCliForTest } from '@mmft/cli/testing';
import { decoderLogits, exportOnnx, generateVlmOnnx, greedyDecodeOnnx, vlmPromptLogits } from '@mmft/exporter-onnx';

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
  return Float32Array.from({ length: n * 3 * size * size }, () => (s = (s * 1103515245 + 12345) % 2 ** 31) / 2 ** 30 - 1);
}

/** Freezes every weight and holds every Linear but lm_head in NF4 with double quantisation (QLoRA's base). */
function quantizeQlora(model: VisionLanguageModel): number {
  for (const [, v] of model.root.stateDict()) v.trainable = false;
  return quantizeLinears4bit(model.root, { quantType: 'nf4', blockSize: 64, doubleQuant: true }).quantized;
}

/**
 * models/llava-shapes-base read at vision_feature_layer −2 with the "default" strategy (class token
 * dropped, 64 image tokens): the feature-selection path the embedded model (−1, "full") does not take.
 */
function llavaPenultimate(): string {
  const target = path.join(dir, 'llava-penultimate-src');
  if (!fs.existsSync(target)) {
    fs.cpSync(path.join(MODELS, 'llava-shapes-base'), target, { recursive: true });
    const config = JSON.parse(fs.readFileSync(path.join(target, 'config.json'), 'utf8')) as Record<string, unknown>;
    Object.assign(config, { vision_feature_layer: -2, vision_feature_select_strategy: 'default', image_seq_length: 64 });
    fs.writeFileSync(path.join(target, 'config.json'), JSON.stringify(config, null, 2));
  }
  return target;
}

describe.each([
  ['llava-shapes-base', 'llava', false],
  ['blip2-shapes-base', 'blip-2', false],
  ['llava-shapes-base', 'llava', true],
  ['blip2-shapes-base', 'blip-2', true],
  ['llava-shapes-base at layer -2, default strategy', 'llava', false],
])('ONNX export of models/%s (4-bit kept: %s)', (name, type, keep4bit) => {
  const suffix = keep4bit ? '_bnb4' : '';
  let model: VisionLanguageModel;
  let out: string;
  let ids: number[][];
  let mask: number[][];
  const size = 64;
  const pix = pixels(2, size);

  beforeAll(async () => {
    const source = name.includes('layer -2') ? llavaPenultimate() : path.join(MODELS, name);
    model = await registry.resolveModelType(type).fromPretrained(source, {}, architectureContext(registry));
    if (keep4bit) expect(quantizeQlora(model)).toBeGreaterThan(20);
    out = path.join(dir, `${name.replace(/\W+/g, '-')}${suffix}`);
    await exportOnnx(model, out, { sourceDir: source, keep4bit });
    // Prompts as the processor lays them out: LLaVA bos, image_seq_length image tokens, the text;
    // legacy BLIP-2 the text alone (the queries go in front of it). Left-padded to one length.
    const config = model.config as Record<string, unknown>;
    const tokenizer = model.tokenizer!;
    const text = config.text_config as Record<string, number>;
    const bos = text.bos_token_id!;
    const rows = TEXTS.map((t) => {
      const body = tokenizer.encode([t]).inputIds[0]!.filter((id) => id !== bos);
      return type === 'llava'
        ? [bos, ...new Array<number>(config.image_seq_length as number).fill(config.image_token_index as number), ...body]
        : [bos, ...body];
    });
    const length = Math.max(...rows.map((r) => r.length));
    const pad = text.pad_token_id!;
    ids = rows.map((r) => [...new Array<number>(length - r.length).fill(pad), ...r]);
    mask = rows.map((r) => [...new Array<number>(length - r.length).fill(0), ...r.map(() => 1)]);
  });
  afterAll(() => model.dispose());

  test('writes the three graphs under onnx/ and the configs beside them', () => {
    for (const part of ['vision_encoder', 'embed_tokens', 'decoder_model_merged'])
      expect(fs.existsSync(path.join(out, 'onnx', `${part}${suffix}.onnx`))).toBe(true);
    for (const file of ['config.json', 'tokenizer.json', 'preprocessor_config.json'])
      expect(fs.existsSync(path.join(out, file))).toBe(true);
    expect(mask.some((row) => row[0] === 0)).toBe(true); // the batch really is left-padded
    const config = JSON.parse(fs.readFileSync(path.join(out, 'config.json'), 'utf8')) as Record<string, unknown>;
    expect(config['transformers.js_config']).toEqual(keep4bit ? { dtype: 'bnb4' } : undefined);
    if (keep4bit) {
      // 4-bit Linears take about an eighth of their float32 bytes: the decoder shrinks well below half of the fp32 export's.
      const fp32 = fs.statSync(path.join(dir, name, 'onnx', 'decoder_model_merged.onnx')).size;
      expect(fs.statSync(path.join(out, 'onnx', 'decoder_model_merged_bnb4.onnx')).size).toBeLessThan(0.5 * fp32);
    }
  });

  test('prompt logits match the tfjs model within 1e-4 at every attended position', async () => {
    const onnx = await vlmPromptLogits(out, { data: pix, dims: [2, 3, size, size] }, ids, { attentionMask: mask, suffix });
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
        for (let v = 0; v < vocab; v++)
          max = Math.max(max, Math.abs(onnx.data[(r * length + t) * vocab + v]! - expected[(r * length + t) * vocab + v]!));
      }
    expect(compared).toBeGreaterThan(2 * 6);
    expect(max).toBeLessThanOrEqual(1e-4);
    if (keep4bit) {
      // The 4-bit graphs really differ from the float32 export (NF4 rounding), so the match above is the 4-bit model's.
      const fp32 = await vlmPromptLogits(path.join(dir, name), { data: pix, dims: [2, 3, size, size] }, ids, { attentionMask: mask });
      expect(Math.max(...Array.from(fp32.data, (v, i) => Math.abs(v - onnx.data[i]!)))).toBeGreaterThan(1e-3);
    }
  });

  test('greedy decoding through the KV cache equals the tfjs model’s greedy generate(), token for token', async () => {
    const inputIds = tf.tensor2d(ids, [2, ids[0]!.length], 'int32');
    const attentionMask = tf.tensor2d(mask, [2, ids[0]!.length], 'int32');
    const pixelValues = tf.tensor4d(pix, [2, 3, size, size]);
    const expected = await model.generate({ inputIds, attentionMask, pixelValues }, { maxNewTokens: NEW_TOKENS, doSample: false });
    tf.dispose([inputIds, attentionMask, pixelValues]);
    const tokens = await generateVlmOnnx(out, { data: pix, dims: [2, 3, size, size] }, ids, NEW_TOKENS, { attentionMask: mask, suffix });
    expect(tokens).toEqual(expected.sequences);
    expect(tokens.flat().length).toBeGreaterThan(2);
  });
});

describe('--keep-4bit on a causal LM (models/llama-shapes-base in NF4)', () => {
  test('writes model_bnb4.onnx whose logits and greedy tokens match the tfjs 4-bit model', async () => {
    const model = await registry
      .resolveModelType('llama')
      .fromPretrained(path.join(MODELS, 'llama-shapes-base'), {}, architectureContext(registry));
    try {
      expect(quantizeQlora(model)).toBe(28); // 4 layers × 7 Linears; lm_head stays float32
      const out = path.join(dir, 'llama-bnb4');
      await exportOnnx(model, out, { sourceDir: path.join(MODELS, 'llama-shapes-base'), keep4bit: true });
      const file = path.join(out, 'model_bnb4.onnx');
      expect(fs.existsSync(file)).toBe(true);
      const ids = model.tokenizer!.encode(['the red circle is left of']).inputIds;
      const onnx = await decoderLogits(file, ids);
      const inputIds = tf.tensor2d(ids, [1, ids[0]!.length], 'int32');
      const logits = model.forward({ inputIds }).logits;
      const expected = logits.dataSync() as Float32Array;
      let max = 0;
      onnx.data.forEach((v, i) => (max = Math.max(max, Math.abs(v - expected[i]!))));
      expect(onnx.dims).toEqual(logits.shape);
      expect(max).toBeLessThanOrEqual(1e-4);
      const generated = await model.generate({ inputIds }, { maxNewTokens: NEW_TOKENS, doSample: false });
      tf.dispose([inputIds, logits]);
      expect(await greedyDecodeOnnx(file, ids, NEW_TOKENS, model.generationConfig.eos_token_id as number)).toEqual(generated.sequences);
    } finally {
      model.dispose();
    }
  });
});

describe('mmft export onnx on a vision-language model', () => {
  test('--check passes for models/llava-shapes-base', async () => {
    const r = await runCliForTest([
      'export',
      'onnx',
      path.join(MODELS, 'llava-shapes-base'),
      '--out',
      path.join(dir, 'cli-llava'),
      '--check',
    ]);
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/onnx\/vision_encoder\.onnx, onnx\/embed_tokens\.onnx, onnx\/decoder_model_merged\.onnx/);
    expect(r.stdout).toMatch(/check onnx\/decoder_model_merged\.onnx logits \[2, \d+, 655\]: max \|Δ\|/);
    expect(r.stdout).toMatch(/parity ok/);
  });

  test('--keep-4bit --check on a saved 4-bit BLIP-2 writes the _bnb4 graphs and passes; without 4-bit weights it is refused', async () => {
    const source = path.join(MODELS, 'blip2-shapes-base');
    const model = await registry.resolveModelType('blip-2').fromPretrained(source, {}, architectureContext(registry));
    const saved = path.join(dir, 'blip2-nf4');
    try {
      quantizeQlora(model);
      await model.save(saved);
    } finally {
      model.dispose();
    }
    const r = await runCliForTest(['export', 'onnx', saved, '--out', path.join(dir, 'cli-blip2-bnb4'), '--keep-4bit', '--check']);
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/check onnx\/decoder_model_merged_bnb4\.onnx logits \[2, \d+, 574\]: max \|Δ\|/);
    expect(r.stdout).toMatch(/parity ok/);
    const plain = await runCliForTest(['export', 'onnx', source, '--out', path.join(dir, 'cli-blip2-none'), '--keep-4bit']);
    expect(plain.code).not.toBe(0);
    expect(plain.stderr).toMatch(/^error: keep4bit: the blip-2 model holds no 4-bit Linear weight\nhint: load the QLoRA base in 4 bits/);
  });
});
