// `mmft export onnx` on tiny HF-layout checkpoints: a CLIP with a LoRA adapter merged in, checked
// in onnxruntime-node against the unmerged base + adapter, a GPT-2 through the causal-LM branch,
// and the refusals (model types without an exporter, other opsets, an occupied --out).
// onnxruntime-node's outputs come from the main V8 context: the realm shim must load before it.
import '@mmft/exporter-onnx/jest-ort-realm';
import '@tensorflow/tfjs-backend-cpu';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { beforeAll, describe, expect, test } from '@jest/globals';
import * as tf from '@tensorflow/tfjs-core';
import * as ort from 'onnxruntime-node';
import { ClipModel, createTinyClipCheckpoint } from '@mmft/arch-clip';
import { createTinyGpt2Checkpoint } from '@mmft/arch-gpt2/testing';
import { saveAdapter } from '@mmft/core';
import { loraMethod } from '@mmft/peft-lora';
import { exportCommand } from './export';
import { runCommands } from './fixtures.test-helper';

const BUILTINS = ['@mmft/backend-tfjs', '@mmft/arch-clip', '@mmft/arch-gpt2', '@mmft/peft-lora', '@mmft/exporter-onnx'];
let tmp: string;
let base: string;

beforeAll(async () => {
  await tf.setBackend('cpu');
  tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'mmft-export-'));
  base = (await createTinyClipCheckpoint(path.join(tmp, 'base'), { seed: 5 })).dir;
});

const run = (argv: string[]) => runCommands((ctx) => [exportCommand(ctx)], ['export', ...argv], { cwd: tmp, builtins: BUILTINS });

const TEXTS = ['a red circle', 'blue square', 'a green triangle circle'];

describe('mmft export onnx', () => {
  test('CLIP + LoRA: merged, three graphs and the side files written; onnxruntime-node gives the unmerged model outputs', async () => {
    const model = await ClipModel.fromPretrained(base);
    const config = loraMethod.configSchema.parse({ r: 2, lora_alpha: 4, target_modules: ['q_proj', 'v_proj', 'fc1'], seed: 1 });
    const applied = loraMethod.apply(model.root, config, 'default');
    applied.trainableParameters().forEach(([, v], i) => tf.tidy(() => v.assign(tf.randomNormal(v.shape, 0, 0.2, 'float32', i))));
    // Expected values: base + adapter, unmerged, in tfjs (batch 3 padded texts, 2 images).
    const { inputIds, attentionMask } = model.tokenizer!.encode(TEXTS, { padding: 'longest' });
    expect(attentionMask.some((row) => row.includes(0))).toBe(true); // the batch really has padding
    const pixels = tf.randomNormal([2, 3, 8, 8], 0, 1, 'float32', 3);
    const expected = model.forward({
      pixelValues: pixels,
      inputIds: tf.tensor2d(inputIds, undefined, 'int32'),
      attentionMask: tf.tensor2d(attentionMask, undefined, 'int32'),
    });
    const want = { logits_per_image: expected.logitsPerImage!.dataSync(), text_embeds: expected.textEmbeds!.dataSync() };
    await saveAdapter(path.join(tmp, 'lora'), loraMethod, config, applied, { baseModelNameOrPath: base });
    const pixelData = pixels.dataSync() as Float32Array;
    model.dispose();

    const r = await run(['onnx', 'base', '--adapter', 'lora', '--out', 'onnx', '--check']);
    expect(r.stderr).toBe('');
    expect(r.stdout).toMatch(/adapter: lora; trainable params/);
    expect(r.stdout).toMatch(/wrote clip as ONNX \(opset 17\) to onnx: model\.onnx, text_model\.onnx, vision_model\.onnx, config\.json/);
    expect(r.stdout).toMatch(/check model\.onnx logits_per_image \[2, 3\]: max \|Δ\| \d\.\d\de-\d+/);
    expect(r.stdout).toMatch(/check text_model\.onnx text_embeds \[3, \d+\]/);
    expect(r.stdout).toMatch(/parity ok: max \|Δ\| .* <= 0\.0001/);
    const out = path.join(tmp, 'onnx');
    for (const name of [
      'model.onnx',
      'text_model.onnx',
      'vision_model.onnx',
      'config.json',
      'tokenizer.json',
      'preprocessor_config.json',
      '.mmft-folder.json',
    ]) {
      expect(fs.existsSync(path.join(out, name))).toBe(true);
    }
    expect(JSON.parse(fs.readFileSync(path.join(out, 'config.json'), 'utf8'))).toEqual(
      JSON.parse(fs.readFileSync(path.join(base, 'config.json'), 'utf8')),
    );

    const session = await ort.InferenceSession.create(path.join(out, 'model.onnx'), { executionProviders: ['cpu'] });
    expect(session.inputNames).toEqual(['input_ids', 'pixel_values', 'attention_mask']);
    expect(session.outputNames).toEqual(['logits_per_image', 'logits_per_text', 'text_embeds', 'image_embeds']);
    const i64 = (rows: number[][]) => new ort.Tensor('int64', BigInt64Array.from(rows.flat().map(BigInt)), [rows.length, rows[0]!.length]);
    const got = await session.run({
      input_ids: i64(inputIds),
      attention_mask: i64(attentionMask),
      pixel_values: new ort.Tensor('float32', pixelData, [2, 3, 8, 8]),
    });
    await session.release();
    const maxDiff = (a: ArrayLike<number>, b: ArrayLike<number>) => Math.max(...Array.from(a, (v, i) => Math.abs(v - b[i]!)));
    // Merged (W + BA)·x against unmerged W·x + B(A·x): float32 summation order only.
    expect(maxDiff(got.logits_per_image!.data as Float32Array, want.logits_per_image)).toBeLessThan(1e-4);
    expect(maxDiff(got.text_embeds!.data as Float32Array, want.text_embeds)).toBeLessThan(1e-4);
    // The adapter changed the outputs: an export of the plain base would not pass the check above.
    const plain = await ClipModel.fromPretrained(base);
    const baseLogits = plain
      .forward({
        pixelValues: tf.tensor4d(pixelData, [2, 3, 8, 8]),
        inputIds: tf.tensor2d(inputIds, undefined, 'int32'),
        attentionMask: tf.tensor2d(attentionMask, undefined, 'int32'),
      })
      .logitsPerImage!.dataSync();
    plain.dispose();
    expect(maxDiff(baseLogits, want.logits_per_image)).toBeGreaterThan(1e-3);

    // A second export into the folder mmft wrote replaces it without --force.
    expect((await run(['onnx', 'base', '--out', 'onnx'])).stderr).toBe('');
  });

  test('GPT-2 goes to the causal-LM exporter: model.onnx with the KV cache, logits checked', async () => {
    await createTinyGpt2Checkpoint(path.join(tmp, 'gpt2'), { seed: 3 });
    const r = await run(['onnx', 'gpt2', '--out', 'gpt2-onnx', '--check']);
    expect(r.stderr).toBe('');
    expect(r.stdout).toMatch(/wrote gpt2 as ONNX \(opset 17\) to gpt2-onnx: model\.onnx/);
    expect(r.stdout).toMatch(/check model\.onnx logits \[2, \d+, \d+\]: max \|Δ\|/);
    expect(r.stdout).toMatch(/parity ok/);
    const session = await ort.InferenceSession.create(path.join(tmp, 'gpt2-onnx', 'model.onnx'), { executionProviders: ['cpu'] });
    expect(session.inputNames.slice(0, 2)).toEqual(['input_ids', 'attention_mask']);
    expect(session.inputNames).toContain('past_key_values.1.value');
    expect(session.outputNames).toContain('present.0.key');
    await session.release();
  });

  test('model types without an exporter are refused before loading, naming the file and what is supported', async () => {
    fs.mkdirSync(path.join(tmp, 'bert'), { recursive: true });
    fs.writeFileSync(path.join(tmp, 'bert', 'config.json'), JSON.stringify({ model_type: 'bert' }));
    const bert = await run(['onnx', 'bert', '--out', 'bert-onnx']);
    expect(bert.stderr).toBe(
      `${path.join('bert', 'config.json')}: model_type "bert" cannot be exported to ONNX yet; supported: clip, llama, opt, gpt2, llava, blip-2`,
    );
    expect(fs.existsSync(path.join(tmp, 'bert-onnx'))).toBe(false);
  });

  test('only opset 17; --out never the model folder; a foreign folder needs --force', async () => {
    expect((await run(['onnx', 'base', '--out', 'x', '--opset', '18'])).stderr).toMatch(/only opset 17/);
    expect((await run(['onnx', 'base', '--out', 'base'])).stderr).toMatch(/<model-dir>/);
    fs.mkdirSync(path.join(tmp, 'foreign'));
    fs.writeFileSync(path.join(tmp, 'foreign', 'notes.txt'), 'mine');
    expect((await run(['onnx', 'base', '--out', 'foreign'])).stderr).toMatch(/notes\.txt/);
    expect(fs.readFileSync(path.join(tmp, 'foreign', 'notes.txt'), 'utf8')).toBe('mine');
  });
});
