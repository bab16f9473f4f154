// BLIP-2 over a real OPT, composed through the registry as transformers' Blip2ForConditionalGeneration
// builds AutoModelForCausalLM.from_config(text_config): a tiny checkpoint with text_config.model_type
// "opt" saves in HF layout (the language model under language_model., its tied head absent), loads back
// through AutoModel by model_type, gives the same logits, and generates from an image alone.
import 'reflect-metadata';
import { afterAll, beforeAll, describe, expect, test } from '@jest/globals';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import * as tf from '@tensorflow/tfjs-core';
import { architectureContext, readSafetensors, type VisionLanguageModel } from '@mmft/core';
import { AutoModel, byteLevelBpeTokenizerFiles } from '@mmft/core/hf';
import { selectBackend, tfjsBackendConfigSchema } from '@mmft/backend-tfjs';
import { optProvider } from '@mmft/arch-opt';
import { createTinyBlip2Checkpoint } from '@mmft/arch-blip2/testing';

let dir: string;
let checkpoint: string;

beforeAll(async () => {
  await selectBackend(tfjsBackendConfigSchema.parse({}));
  dir = fs.mkdtempSync(path.join(os.tmpdir(), 'mmft-blip2-opt-'));
  const tokenizer = path.join(dir, 'tokenizer');
  fs.mkdirSync(tokenizer);
  const files = byteLevelBpeTokenizerFiles({ flavour: 'opt' });
  for (const [name, bytes] of files) fs.writeFileSync(path.join(tokenizer, name), bytes);
  const vocab = (JSON.parse(fs.readFileSync(path.join(tokenizer, 'tokenizer.json'), 'utf8')) as { model: { vocab: object } }).model.vocab;
  const textConfig = {
    model_type: 'opt',
    vocab_size: Object.keys(vocab).length + 8,
    hidden_size: 16,
    word_embed_proj_dim: 16,
    ffn_dim: 32,
    num_hidden_layers: 2,
    num_attention_heads: 2,
    max_position_embeddings: 64,
    init_std: 0.3,
  };
  const context = architectureContext({ list: () => [optProvider] });
  checkpoint = (await createTinyBlip2Checkpoint(path.join(dir, 'blip2'), { context, textConfig, tokenizer, layout: 'legacy', seed: 3 }))
    .dir;
});
afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));

const pixels = () => tf.randomNormal([1, 3, 8, 8], 0, 1, 'float32', 7);
const prompt = () => tf.tensor2d([[2, 10, 11, 12]], [1, 4], 'int32');

function logitsOf(model: VisionLanguageModel): number[] {
  return tf.tidy(() => {
    const out = model.forward({ pixelValues: pixels(), inputIds: prompt(), attentionMask: tf.onesLike(prompt()) });
    return Array.from(out.logits!.dataSync());
  });
}

describe('BLIP-2 over OPT', () => {
  test('saved in HF layout: the language model under language_model., its tied head absent', async () => {
    const { tensors } = await readSafetensors(path.join(checkpoint, 'model.safetensors'));
    const names = [...tensors.keys()];
    expect(names).toContain('language_model.model.decoder.embed_tokens.weight');
    expect(names).toContain('language_model.model.decoder.layers.1.self_attn.q_proj.weight');
    expect(names).toContain('qformer.encoder.layer.0.crossattention.attention.query.weight');
    expect(names).toContain('language_projection.weight');
    expect(names).not.toContain('language_model.lm_head.weight');
    const config = JSON.parse(fs.readFileSync(path.join(checkpoint, 'config.json'), 'utf8')) as {
      model_type: string;
      text_config: { model_type: string };
    };
    expect(config.model_type).toBe('blip-2');
    expect(config.text_config.model_type).toBe('opt');
  });

  test('AutoModel dispatches on model_type, builds OPT through the registry, and a save/load round trip keeps the logits', async () => {
    const model = await AutoModel.fromPretrained(checkpoint);
    expect(model.modelType).toBe('blip-2');
    expect(model.family).toBe('vision-to-llm');
    const before = logitsOf(model);
    expect(before.every(Number.isFinite)).toBe(true);
    const again = path.join(dir, 'again');
    await model.save(again);
    model.dispose();
    const reloaded = await AutoModel.fromPretrained(again);
    expect(logitsOf(reloaded)).toEqual(before);
    reloaded.dispose();
  });

  test('generate() from an image alone returns new tokens only, and the image changes them', async () => {
    const model = await AutoModel.fromPretrained(checkpoint);
    const run = async (seed: number) => {
      const pixelValues = tf.randomNormal([1, 3, 8, 8], 0, 3, 'float32', seed);
      const result = await model.generate!({ pixelValues }, { maxNewTokens: 6, minNewTokens: 6 });
      pixelValues.dispose();
      return result;
    };
    const before = tf.memory().numTensors;
    const a = await run(1);
    expect(tf.memory().numTensors).toBe(before);
    expect(a.sequences[0]).toHaveLength(6);
    expect(typeof a.texts[0]).toBe('string');
    const others = await Promise.all([2, 3, 4, 5].map(run));
    expect(others.some((o) => JSON.stringify(o.sequences) !== JSON.stringify(a.sequences))).toBe(true);
    model.dispose();
  });
});
