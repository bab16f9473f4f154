// OnnxEngine on hand-made export folders (no architecture plugin): a one-layer decoder written with the
// exporter's graph builder whose logits pick a fixed successor of the last token (a lookup table), so
// every reply is known in advance; its cache holds the ids seen so far, in the layout greedyDecodeOnnx
// feeds. Also the folder detection, LLaVA/BLIP-2 image spans from config.json and L2 normalisation.
import '@mmft/exporter-onnx/jest-ort-realm';
import { afterAll, beforeAll, describe, expect, test } from '@jest/globals';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { wordLevelTokenizerFileMap, tokenizerFromFiles } from '@mmft/core/hf';
import { OnnxGraph, writeOnnxModel } from '@mmft/exporter-onnx';
import { detectOnnxExport, l2Normalize, OnnxEngine, vlmImageTokens } from './onnx-engine';
import type { ChatRequest, ChatUsage } from './engine';

const WORDS = ['red', 'green', 'blue', 'circle'];
let dir: string;
let lm: string;
let engine: OnnxEngine;
let id: (word: string) => number;
let eos: number;

/** A decoder whose next id after `i` is successor[i] (logit 10, every other 0), attention and positions ignored. */
async function writeSuccessorDecoder(file: string, successor: readonly number[]): Promise<void> {
  const v = successor.length;
  const table = new Float32Array(v * v);
  successor.forEach((next, i) => (table[i * v + next] = 10));
  const g = new OnnxGraph('successor');
  const ids = g.input('input_ids', 'int64', ['batch_size', 'sequence_length']);
  g.input('attention_mask', 'int64', ['batch_size', 'total_sequence_length']);
  const pastKey = g.input('past_key_values.0.key', 'float32', ['batch_size', 1, 'past_sequence_length', 1]);
  const pastValue = g.input('past_key_values.0.value', 'float32', ['batch_size', 1, 'past_sequence_length', 1]);
  const logits = g.op1('Gather', [g.initializer('table', { dtype: 'float32', dims: [v, v], data: table }), ids], { axis: 0 });
  const axes = g.constant({ dtype: 'int64', dims: [2], data: BigInt64Array.from([1n, 3n]) }, 'axes');
  const seen = g.op1('Unsqueeze', [g.op1('Cast', [ids], { to: 1 }), axes]);
  g.rename(logits, 'logits');
  g.rename(g.op1('Concat', [pastKey, seen], { axis: 2 }), 'present.0.key');
  g.rename(g.op1('Concat', [pastValue, seen], { axis: 2 }), 'present.0.value');
  g.output('logits', 'float32', ['batch_size', 'sequence_length', v]);
  g.output('present.0.key', 'float32', ['batch_size', 1, 'total_sequence_length', 1]);
  g.output('present.0.value', 'float32', ['batch_size', 1, 'total_sequence_length', 1]);
  await writeOnnxModel(g, file);
}

beforeAll(async () => {
  dir = fs.mkdtempSync(path.join(os.tmpdir(), 'mmft-serve-onnx-engine-'));
  lm = path.join(dir, 'lm');
  fs.mkdirSync(lm);
  const { files, ids } = wordLevelTokenizerFileMap(WORDS);
  for (const [name, text] of files) fs.writeFileSync(path.join(lm, name), text);
  const vocab = (JSON.parse(files.get('tokenizer.json')!) as { model: { vocab: Record<string, number> } }).model.vocab;
  id = (word) => vocab[word]!;
  eos = ids.eos;
  // The prompt ends with eos (the tokenizer's template appends it): eos → red → green → blue → eos.
  const successor = Array.from({ length: ids.vocabSize }, () => id('circle'));
  successor[eos] = id('red');
  successor[id('red')] = id('green');
  successor[id('green')] = id('blue');
  successor[id('blue')] = eos;
  await writeSuccessorDecoder(path.join(lm, 'model.onnx'), successor);
  fs.writeFileSync(path.join(lm, 'config.json'), JSON.stringify({ model_type: 'llama', vocab_size: ids.vocabSize, eos_token_id: eos }));
  fs.writeFileSync(path.join(lm, 'generation_config.json'), JSON.stringify({ eos_token_id: eos, pad_token_id: eos }));
  engine = await OnnxEngine.load(lm);
});
afterAll(async () => {
  await engine?.close();
  fs.rmSync(dir, { recursive: true, force: true });
});

async function reply(
  request: Omit<ChatRequest, 'onUsage' | 'messages'>,
  signal = new AbortController().signal,
): Promise<{ text: string; pieces: string[]; usage: ChatUsage }> {
  let usage: ChatUsage | undefined;
  const pieces: string[] = [];
  const messages = [{ role: 'user' as const, text: 'circle', images: [], imageAt: [] }];
  for await (const p of engine.chat({ ...request, messages, onUsage: (u) => (usage = u) }, signal)) pieces.push(p);
  return { text: pieces.join(''), pieces, usage: usage! };
}

describe('OnnxEngine over a causal-LM export', () => {
  test('is a chat engine of the language-model family, reading no images', () => {
    expect([engine.kind, engine.family, engine.acceptsImages]).toEqual(['chat', 'language-model', false]);
    expect(engine.countTokens('red circle')).toBe(4); // bos red circle eos
  });

  test('greedy decoding follows the successor table to eos, which ends the reply', async () => {
    const tokenizer = tokenizerFromFiles(new Map([...wordLevelTokenizerFileMap(WORDS).files].map(([k, v]) => [k, Buffer.from(v)])))!;
    const expected = tokenizer.decode([id('red'), id('green'), id('blue'), eos], { skipSpecialTokens: true });
    const r = await reply({ maxTokens: 10, temperature: 0 });
    expect(r.text).toBe(expected);
    expect(r.usage).toEqual({ promptTokens: 3, completionTokens: 4, finishReason: 'stop' });
  });

  test('maxTokens cuts the reply, finish reason length', async () => {
    const r = await reply({ maxTokens: 2, temperature: 0 });
    expect(r.text.trim().split(/\s+/)).toEqual(['red', 'green']);
    expect(r.usage).toEqual({ promptTokens: 3, completionTokens: 2, finishReason: 'length' });
  });

  test('top_p 0.5 keeps only the best id (probability ≈ 0.9995), so sampling gives the greedy reply; a hot temperature strays', async () => {
    const greedy = (await reply({ maxTokens: 3, temperature: 0 })).text;
    for (const seed of [1, 2, 3]) expect((await reply({ maxTokens: 3, temperature: 1, topP: 0.5, seed })).text).toBe(greedy);
    // At temperature 1000 the 10-vs-0 logits are nearly uniform over the vocabulary: some seed strays.
    const hot = await Promise.all([1, 2, 3, 4, 5].map(async (seed) => (await reply({ maxTokens: 3, temperature: 1000, seed })).text));
    expect(hot.some((t) => t !== greedy)).toBe(true);
    // The same seed draws the same reply.
    expect((await reply({ maxTokens: 3, temperature: 1000, seed: 4 })).text).toBe(hot[3]);
  });

  test('an aborted signal ends the reply at the next step and reports what was made', async () => {
    const controller = new AbortController();
    let usage: ChatUsage | undefined;
    const pieces: string[] = [];
    const messages = [{ role: 'user' as const, text: 'circle', images: [], imageAt: [] }];
    for await (const p of engine.chat({ messages, maxTokens: 10, temperature: 0, onUsage: (u) => (usage = u) }, controller.signal)) {
      pieces.push(p);
      controller.abort();
    }
    expect(pieces).toHaveLength(1);
    expect(usage!.completionTokens).toBeLessThan(4);
  });

  test('embed is refused for a chat export', async () => {
    await expect(engine.embed([{ text: 'red' }])).rejects.toThrow(/has no embeddings/);
  });
});

describe('detectOnnxExport', () => {
  const layout = (files: string[]) => {
    const d = fs.mkdtempSync(path.join(dir, 'layout-'));
    for (const f of files) {
      fs.mkdirSync(path.dirname(path.join(d, f)), { recursive: true });
      fs.writeFileSync(path.join(d, f), '');
    }
    return detectOnnxExport(d);
  };
  test('names the layout of each export and none for a checkpoint', async () => {
    expect(await layout(['model.onnx', 'text_model.onnx', 'vision_model.onnx'])).toEqual({ layout: 'clip', suffix: '' });
    expect(await layout(['onnx/decoder_model_merged_bnb4.onnx'])).toEqual({ layout: 'vision-to-llm', suffix: '_bnb4' });
    expect(await layout(['onnx/decoder_model_merged.onnx', 'onnx/decoder_model_merged_bnb4.onnx'])).toEqual({
      layout: 'vision-to-llm',
      suffix: '',
    });
    expect(await layout(['model_bnb4.onnx'])).toEqual({ layout: 'causal-lm', suffix: '_bnb4' });
    expect(await layout(['config.json', 'model.safetensors'])).toBeUndefined();
  });
  test('OnnxEngine.load of a folder without an export says how to make one', async () => {
    await expect(OnnxEngine.load(dir)).rejects.toThrow(/holds no ONNX export/);
  });
});

describe('vlmImageTokens', () => {
  const vision = { image_size: 64, patch_size: 8 };
  test('LLaVA: one id per patch, +1 for the class token under the full strategy', () => {
    expect(
      vlmImageTokens({ model_type: 'llava', image_token_index: 9, vision_config: vision, vision_feature_select_strategy: 'full' }, 'c'),
    ).toEqual({
      tokenId: 9,
      count: 65,
      placement: 'placeholder',
    });
    expect(
      vlmImageTokens({ model_type: 'llava', image_token_index: 9, vision_config: vision, vision_feature_select_strategy: 'default' }, 'c')
        ?.count,
    ).toBe(64);
  });
  test('BLIP-2: num_query_tokens in front with image_token_index, none in the legacy layout', () => {
    expect(vlmImageTokens({ model_type: 'blip-2', image_token_index: 50, num_query_tokens: 16 }, 'c')).toEqual({
      tokenId: 50,
      count: 16,
      placement: 'prefix',
    });
    expect(vlmImageTokens({ model_type: 'blip-2', image_token_index: null, num_query_tokens: 16 }, 'c')).toBeUndefined();
  });
  test('a LLaVA config without the vision sizes is an error naming the file', () => {
    expect(() => vlmImageTokens({ model_type: 'llava', image_token_index: 9 }, 'out/config.json')).toThrow(/out\/config.json/);
  });
});

test('l2Normalize gives a unit vector in the same direction; zero stays zero', () => {
  expect(Array.from(l2Normalize(new Float32Array([3, 4])))).toEqual([0.6000000238418579, 0.800000011920929]);
  expect(Array.from(l2Normalize(new Float32Array([0, 0])))).toEqual([0, 0]);
});
