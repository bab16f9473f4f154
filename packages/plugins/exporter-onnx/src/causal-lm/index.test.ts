// What exportCausalLm writes: one model.onnx whose inputs and outputs carry optimum's names and
// symbolic dims (input_ids, attention_mask, past_key_values.N.key/value, position_ids → logits,
// present.N.key/value), the folder's config.json, generation_config.json and tokenizer files, and the
// errors for a model type it cannot write or a file that is not a decoder.
import { afterAll, beforeAll, describe, expect, test } from '@jest/globals';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import * as ort from 'onnxruntime-node';
import { ensureBackend, type VisionLanguageModel } from '@mmft/core';
import { OnnxGraph, writeOnnxModel } from '../onnx/graph';
import { decoderInfo, decoderLogits, exportCausalLm, greedyDecodeOnnx } from './index';
import { tinyLlama } from './tiny-decoders.fixture';

let dir: string;
beforeAll(async () => {
  await ensureBackend();
  dir = fs.mkdtempSync(path.join(os.tmpdir(), 'mmft-onnx-causal-files-'));
});
afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));

describe('exportCausalLm', () => {
  test('writes model.onnx with optimum’s inputs and outputs, config.json, generation_config.json and the tokenizer files', async () => {
    const model = tinyLlama({ num_hidden_layers: 3 });
    const out = path.join(dir, 'llama');
    const result = await exportCausalLm(model, out);
    model.dispose();
    expect(result.files.map((f) => path.basename(f))).toEqual([
      'model.onnx',
      'config.json',
      'generation_config.json',
      'tokenizer_config.json',
    ]);
    expect(result.dims).toEqual({ layers: 3, kvHeads: 2, headDim: 8, vocabSize: 40 });

    const session = await ort.InferenceSession.create(result.model, { executionProviders: ['cpu'] });
    const past = [0, 1, 2].flatMap((i) => [`past_key_values.${i}.key`, `past_key_values.${i}.value`]);
    expect(session.inputNames).toEqual(['input_ids', 'attention_mask', ...past, 'position_ids']);
    expect(session.outputNames).toEqual(['logits', ...[0, 1, 2].flatMap((i) => [`present.${i}.key`, `present.${i}.value`])]);
    const shape = (list: readonly ort.InferenceSession.ValueMetadata[], name: string) => {
      const meta = list.find((m) => m.name === name);
      return meta?.isTensor ? [meta.type, ...meta.shape] : undefined;
    };
    expect(shape(session.inputMetadata, 'input_ids')).toEqual(['int64', 'batch_size', 'sequence_length']);
    expect(shape(session.inputMetadata, 'attention_mask')).toEqual(['int64', 'batch_size', 'past_sequence_length + sequence_length']);
    expect(shape(session.inputMetadata, 'past_key_values.2.value')).toEqual(['float32', 'batch_size', 2, 'past_sequence_length', 8]);
    expect(shape(session.outputMetadata, 'logits')).toEqual(['float32', 'batch_size', 'sequence_length', 40]);
    expect(shape(session.outputMetadata, 'present.0.key')).toEqual([
      'float32',
      'batch_size',
      2,
      'past_sequence_length + sequence_length',
      8,
    ]);
    expect(decoderInfo(session)).toEqual({ layers: 3, kvHeads: 2, headDim: 8, hasPositionIds: true });
    await session.release();

    const config = JSON.parse(fs.readFileSync(path.join(out, 'config.json'), 'utf8'));
    expect(config).toMatchObject({
      model_type: 'llama',
      architectures: ['llama'],
      num_key_value_heads: 2,
      use_cache: true,
      torch_dtype: 'float32',
    });
    expect(JSON.parse(fs.readFileSync(path.join(out, 'generation_config.json'), 'utf8'))).toEqual({ eos_token_id: 2, pad_token_id: 0 });
    expect(fs.readFileSync(path.join(out, 'tokenizer_config.json'), 'utf8')).toBe('{"model_max_length": 32}\n');
  });

  test('weights over the external-data threshold go to model.onnx_data, loaded by path with the same logits', async () => {
    const model = tinyLlama({}, 7);
    const inline = await exportCausalLm(model, path.join(dir, 'inline'));
    const external = await exportCausalLm(model, path.join(dir, 'external'), { externalDataThreshold: 1024 });
    model.dispose();
    expect(external.files.map((f) => path.basename(f)).slice(0, 2)).toEqual(['model.onnx', 'model.onnx_data']);
    // The weights moved out: what model.onnx lost is in model.onnx_data (plus 4096-byte alignment).
    const [whole, graphOnly] = [fs.statSync(inline.model).size, fs.statSync(external.model).size];
    expect(graphOnly).toBeLessThan(whole / 2);
    expect(fs.statSync(external.files[1]!).size).toBeGreaterThanOrEqual(whole - graphOnly);
    const ids = [[3, 9, 27, 4]];
    const [a, b] = [await decoderLogits(inline.model, ids), await decoderLogits(external.model, ids)];
    expect(b.dims).toEqual(a.dims);
    expect([...b.data]).toEqual([...a.data]);
  });

  test('an open session is used as given and left open: decoding twice through it equals decoding by path', async () => {
    const model = tinyLlama({}, 9);
    const { model: file } = await exportCausalLm(model, path.join(dir, 'session'));
    model.dispose();
    const prompts = [[5, 6, 7]];
    const byPath = await greedyDecodeOnnx(file, prompts, 5, []);
    const session = await ort.InferenceSession.create(file, { executionProviders: ['cpu'] });
    expect(await greedyDecodeOnnx(session, prompts, 5, [])).toEqual(byPath);
    expect(await greedyDecodeOnnx(session, prompts, 5, [])).toEqual(byPath);
    expect((await decoderLogits(session, prompts)).dims).toEqual([1, 3, 40]);
    await session.release();
    expect(byPath[0]).toHaveLength(5);
  });

  test('refuses a model type it has no emitter for, listing the ones it has', async () => {
    const model = { modelType: 'clip', config: {}, root: {} } as unknown as VisionLanguageModel;
    await expect(exportCausalLm(model, path.join(dir, 'clip'))).rejects.toMatchObject({
      code: 'E_UNSUPPORTED',
      message: expect.stringContaining('llama, opt, gpt2'),
    });
  });
});

describe('decoderInfo', () => {
  test('a model without past_key_values inputs is refused with the export command as the fix', async () => {
    const g = new OnnxGraph('plain');
    g.output(g.op1('Identity', [g.input('x', 'float32', [1])]), 'float32', [1]);
    const file = path.join(dir, 'plain.onnx');
    await writeOnnxModel(g, file);
    const session = await ort.InferenceSession.create(file, { executionProviders: ['cpu'] });
    expect(() => decoderInfo(session, file)).toThrow(/plain\.onnx: not a decoder with a KV cache \(inputs: x\)/);
    await session.release();
  });
});
