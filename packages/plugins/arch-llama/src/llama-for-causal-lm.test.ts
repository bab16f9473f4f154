// LlamaForCausalLM as a whole: the loss against the hand formula on the reference logits, checkpoint
// folders (save/load round trip, tied and untied heads, bfloat16 and sharded weights as real Llama
// checkpoints ship them) and loader errors that name the tensor.
import '@tensorflow/tfjs-backend-cpu';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import * as tf from '@tensorflow/tfjs-core';
import { afterAll, describe, expect, test } from '@jest/globals';
import { bf16ToF32, f32ToBf16, readShardedSafetensors, writeSafetensors } from '@mmft/core/io';
import { registerGradients } from '@mmft/core/nn';
import { llamaTokenizerFiles } from '@mmft/core/testing';
import { LlamaForCausalLM } from './llama-for-causal-lm';
import { createTinyLlamaCheckpoint, TINY_LLAMA_CONFIG } from './testing/tiny-checkpoint';
import { refCausalLmLoss, refLlamaLogits } from './testing/reference-llama';

const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'mmft-llama-'));
afterAll(() => fs.rmSync(tmp, { recursive: true, force: true }));
const dirOf = (name: string) => path.join(tmp, name);
const ids = (rows: number[][]) => tf.tensor2d(rows, undefined, 'int32');
const weightsOf = (model: LlamaForCausalLM) => new Map([...model.root.stateDict()].map(([n, v]) => [n, v.arraySync()]));
const readJson = (file: string) => JSON.parse(fs.readFileSync(file, 'utf8')) as Record<string, unknown>;

async function sameWeights(a: LlamaForCausalLM, b: LlamaForCausalLM): Promise<void> {
  const [x, y] = [a.root.stateDict(), b.root.stateDict()];
  expect([...y.keys()]).toEqual([...x.keys()]);
  for (const [name, v] of x)
    expect({ name, data: Array.from(await y.get(name)!.data()) }).toEqual({ name, data: Array.from(await v.data()) });
}

describe('LlamaForCausalLM', () => {
  test('logitsToKeep: the last positions only, the same bits as the full forward; ignored with labels', () => {
    const model = LlamaForCausalLM.fromConfig({ ...TINY_LLAMA_CONFIG, vocab_size: 13, initializer_range: 0.5 }, { seed: 3 });
    try {
      const inputIds = ids([
        [1, 4, 9, 2, 7],
        [3, 3, 12, 5, 0],
      ]);
      const full = model.forward({ inputIds }).logits;
      const last2 = model.forward({ inputIds, logitsToKeep: 2 }).logits;
      expect(last2.shape).toEqual([2, 2, 13]);
      expect(Array.from(last2.dataSync())).toEqual(Array.from(tf.slice(full, [0, 3, 0], [-1, 2, -1]).dataSync()));
      const withLabels = model.forward({ inputIds, labels: inputIds, logitsToKeep: 1 });
      expect(withLabels.logits.shape).toEqual([2, 5, 13]);
      tf.dispose([full, last2, withLabels.logits, withLabels.loss!]);
    } finally {
      model.dispose();
    }
  });

  test('loss = mean over label tokens of −log softmax at the previous position (−100 ignored); numItemsInBatch makes it sum / N', () => {
    const model = LlamaForCausalLM.fromConfig({ ...TINY_LLAMA_CONFIG, vocab_size: 13, initializer_range: 0.5 }, { seed: 3 });
    try {
      const inputIds = [
        [1, 4, 9, 2, 7],
        [3, 3, 12, 5, 0],
      ];
      const labels = [
        [-100, 4, 9, 2, 7],
        [-100, -100, 12, 5, -100],
      ];
      const expected = refCausalLmLoss(refLlamaLogits(weightsOf(model), model.config, { inputIds }), labels);
      const { logits, loss } = model.forward({ inputIds: ids(inputIds), labels: ids(labels) });
      expect(logits.shape).toEqual([2, 5, 13]);
      expect(loss!.dataSync()[0]).toBeCloseTo(expected, 4);
      const summed = model.forward({ inputIds: ids(inputIds), labels: ids(labels), numItemsInBatch: 12 });
      expect(summed.loss!.dataSync()[0]).toBeCloseTo((expected * 6) / 12, 4);
      tf.dispose([logits, loss!, summed.logits, summed.loss!]);
    } finally {
      model.dispose();
    }
  });

  test('training: gradients reach every parameter (the tied head once), the loss falls, no tensor leaks across steps', () => {
    const model = LlamaForCausalLM.fromConfig({ ...TINY_LLAMA_CONFIG, vocab_size: 13, tie_word_embeddings: true }, { seed: 2 });
    const inputIds = ids([
      [1, 4, 9, 2, 7],
      [1, 3, 12, 5, 5],
    ]);
    const attentionMask = ids([
      [1, 1, 1, 1, 1],
      [0, 1, 1, 1, 1],
    ]);
    const labels = ids([
      [-100, 4, 9, 2, 7],
      [-100, -100, 12, 5, 5],
    ]);
    const lossOf = () => {
      const { logits, loss } = model.forward({ inputIds, attentionMask, labels });
      logits.dispose();
      return loss as tf.Scalar;
    };
    registerGradients(); // tfjs-core alone registers no gradient functions
    const optimizer = tf.train.adam(0.01);
    try {
      const params = model.root.trainableParameters();
      expect(params).toHaveLength(model.root.stateDict().size - 1); // lm_head.weight is embed_tokens.weight
      const { value, grads } = tf.variableGrads(lossOf, params);
      const silent = Object.entries(grads).filter(([, g]) => tf.tidy(() => tf.sum(tf.abs(g)).dataSync()[0]) === 0);
      expect(silent.map(([name]) => name)).toEqual([]);
      tf.dispose([value, ...Object.values(grads)]);
      const losses: number[] = [];
      let afterFirst = 0;
      for (let step = 0; step < 4; step++) {
        const cost = optimizer.minimize(lossOf, true, params)!;
        losses.push(cost.dataSync()[0]!);
        cost.dispose();
        if (step === 0) afterFirst = tf.memory().numTensors; // adam's moments exist from the first step on
      }
      expect(tf.memory().numTensors).toBe(afterFirst);
      expect(losses[3]).toBeLessThan(losses[0]!);
    } finally {
      optimizer.dispose();
      tf.dispose([inputIds, attentionMask, labels]);
      model.dispose();
    }
  });

  test('fromConfig: training mode, HF defaults filled in, generation_config derived as transformers does', () => {
    const model = LlamaForCausalLM.fromConfig({ ...TINY_LLAMA_CONFIG, vocab_size: 20 }, { seed: 0 });
    try {
      expect(model.root.training).toBe(true);
      expect(model.modelType).toBe('llama');
      expect(model.family).toBe('language-model');
      expect(model.numLayers).toBe(2);
      expect(model.config).toMatchObject({ num_key_value_heads: 2, head_dim: 4, rope_theta: 10000, tie_word_embeddings: false });
      expect(model.generationConfig).toMatchObject({ _from_model_config: true, bos_token_id: 1, eos_token_id: 2 });
      expect(model.processor.towers).toEqual({ language: ['model.**'], head: ['lm_head.**'] });
    } finally {
      model.dispose();
    }
  });

  test('save → fromPretrained: bit-exact weights, HF config.json, lm_head.weight saved when untied', async () => {
    const { dir } = await createTinyLlamaCheckpoint(dirOf('untied'), { seed: 1 });
    const model = await LlamaForCausalLM.fromPretrained(dir);
    try {
      expect(model.root.training).toBe(false);
      const config = readJson(path.join(dir, 'config.json'));
      expect(config).toMatchObject({ architectures: ['LlamaForCausalLM'], model_type: 'llama', num_key_value_heads: 2, head_dim: 4 });
      const { tensors } = await readShardedSafetensors(dir);
      expect(tensors.has('lm_head.weight')).toBe(true);
      await model.save(dirOf('untied-again'));
      const again = await LlamaForCausalLM.fromPretrained(dirOf('untied-again'));
      try {
        await sameWeights(model, again);
        expect(readJson(path.join(dirOf('untied-again'), 'config.json'))).toEqual(config);
      } finally {
        again.dispose();
      }
    } finally {
      model.dispose();
    }
  });

  test('tie_word_embeddings: lm_head.weight absent from the file, tied again on load; a stored copy is accepted', async () => {
    const { dir } = await createTinyLlamaCheckpoint(dirOf('tied'), { seed: 2, config: { tie_word_embeddings: true } });
    const { tensors } = await readShardedSafetensors(dir);
    expect(tensors.has('lm_head.weight')).toBe(false);
    const model = await LlamaForCausalLM.fromPretrained(dir);
    try {
      const state = model.root.stateDict();
      expect(state.get('lm_head.weight')).toBe(state.get('model.embed_tokens.weight'));
      expect(model.processor.towers).toEqual({ language: ['model.**'] });
      const logits = tf.tidy(() => model.forward({ inputIds: ids([[1, 5, 6]]) }).logits.arraySync()) as number[][][];
      const expected = refLlamaLogits(weightsOf(model), model.config, { inputIds: [[1, 5, 6]] });
      expect(Math.max(...logits.flat(2).map((v, i) => Math.abs(v - expected.flat(2)[i]!)))).toBeLessThan(1e-4);
      // Some exporters store the tied copy too.
      const withCopy = new Map([...tensors, ['lm_head.weight', tensors.get('model.embed_tokens.weight')!]]);
      await writeSafetensors(path.join(dir, 'model.safetensors'), withCopy);
      const loaded = await LlamaForCausalLM.fromPretrained(dir);
      await sameWeights(model, loaded);
      loaded.dispose();
    } finally {
      model.dispose();
    }
  });

  test('bfloat16 weights (as real Llama checkpoints) load upcast, equal to the float32 weights rounded to bf16', async () => {
    const f32 = await createTinyLlamaCheckpoint(dirOf('f32'), { seed: 5 });
    const bf16 = await createTinyLlamaCheckpoint(dirOf('bf16'), { seed: 5, dtype: 'BF16' });
    expect(readJson(path.join(bf16.dir, 'config.json')).torch_dtype).toBe('bfloat16');
    const [a, b] = [await LlamaForCausalLM.fromPretrained(f32.dir), await LlamaForCausalLM.fromPretrained(bf16.dir)];
    try {
      const bState = b.root.stateDict();
      let changed = 0;
      for (const [name, v] of a.root.stateDict()) {
        const exact = v.dataSync() as Float32Array;
        const rounded = bf16ToF32(f32ToBf16(exact));
        expect({ name, data: Array.from(bState.get(name)!.dataSync()) }).toEqual({ name, data: Array.from(rounded) });
        changed += exact.some((x, i) => x !== rounded[i]) ? 1 : 0;
      }
      expect(changed).toBeGreaterThan(0); // the file really held bf16
    } finally {
      a.dispose();
      b.dispose();
    }
  });

  test('a sharded folder (model.safetensors.index.json + shards) loads the same weights', async () => {
    const one = await createTinyLlamaCheckpoint(dirOf('single'), { seed: 6 });
    const sharded = await createTinyLlamaCheckpoint(dirOf('sharded'), { seed: 6, shards: 3 });
    const files = fs.readdirSync(sharded.dir);
    expect(files).toEqual(
      expect.arrayContaining(['model.safetensors.index.json', 'model-00001-of-00003.safetensors', 'model-00003-of-00003.safetensors']),
    );
    expect(files).not.toContain('model.safetensors');
    const [a, b] = [await LlamaForCausalLM.fromPretrained(one.dir), await LlamaForCausalLM.fromPretrained(sharded.dir)];
    try {
      await sameWeights(a, b);
    } finally {
      a.dispose();
      b.dispose();
    }
  });

  test('a missing tensor is an error naming it and the file; the model is not built', async () => {
    const { dir } = await createTinyLlamaCheckpoint(dirOf('missing'), { seed: 7 });
    const { tensors } = await readShardedSafetensors(dir);
    tensors.delete('model.layers.1.mlp.up_proj.weight');
    await writeSafetensors(path.join(dir, 'model.safetensors'), tensors);
    const before = tf.memory().numTensors;
    await expect(LlamaForCausalLM.fromPretrained(dir)).rejects.toThrow(
      /missing \(1\) from .*model\.safetensors: model\.layers\.1\.mlp\.up_proj\.weight \[32, 16\]/,
    );
    expect(tf.memory().numTensors).toBe(before);
  });

  test('a mis-shaped tensor is an error naming it with both shapes', async () => {
    const { dir } = await createTinyLlamaCheckpoint(dirOf('misshaped'), { seed: 8 });
    const config = readJson(path.join(dir, 'config.json'));
    fs.writeFileSync(path.join(dir, 'config.json'), JSON.stringify({ ...config, num_key_value_heads: 4 }));
    await expect(LlamaForCausalLM.fromPretrained(dir)).rejects.toThrow(
      /wrong shape .*model\.layers\.0\.self_attn\.k_proj\.weight: the model has \[16, 16\], .*model\.safetensors has \[8, 16\]/,
    );
  });

  test('an unknown tensor is refused unless ignoreUnexpected; legacy rotary_emb.inv_freq buffers are skipped', async () => {
    const { dir } = await createTinyLlamaCheckpoint(dirOf('extra'), { seed: 9 });
    const { tensors } = await readShardedSafetensors(dir);
    const extra = { dtype: 'F32' as const, shape: [2], data: new Float32Array([1, 2]) };
    tensors.set('model.layers.0.self_attn.rotary_emb.inv_freq', extra);
    await writeSafetensors(path.join(dir, 'model.safetensors'), tensors);
    (await LlamaForCausalLM.fromPretrained(dir)).dispose();
    tensors.set('model.layers.0.mystery.weight', extra);
    await writeSafetensors(path.join(dir, 'model.safetensors'), tensors);
    await expect(LlamaForCausalLM.fromPretrained(dir)).rejects.toThrow(/unexpected \(1\): model\.layers\.0\.mystery\.weight/);
    const model = await LlamaForCausalLM.fromPretrained(dir, { ignoreUnexpected: true });
    expect(model.loadReport?.unexpected).toEqual(['model.layers.0.mystery.weight']);
    model.dispose();
  });

  test('a config.json of another model type is refused naming the file', async () => {
    const { dir } = await createTinyLlamaCheckpoint(dirOf('wrongtype'), { seed: 10 });
    fs.writeFileSync(path.join(dir, 'config.json'), JSON.stringify({ ...readJson(path.join(dir, 'config.json')), model_type: 'mistral' }));
    await expect(LlamaForCausalLM.fromPretrained(dir)).rejects.toThrow(/config\.json: model_type "mistral" is not a Llama checkpoint/);
  });

  test('the tokenizer files travel with the model byte for byte; the chat template renders through the tokenizer', async () => {
    const files = llamaTokenizerFiles({ padToken: '<unk>', paddingSide: 'left' });
    const model = LlamaForCausalLM.fromConfig({ ...TINY_LLAMA_CONFIG, vocab_size: 400 }, { seed: 0, tokenizerFiles: files });
    try {
      await model.save(dirOf('with-tokenizer'));
      for (const [name, bytes] of files) expect(new Uint8Array(fs.readFileSync(path.join(dirOf('with-tokenizer'), name)))).toEqual(bytes);
      expect(model.processor.chatTemplate).toContain('[INST]');
      expect(model.tokenizer?.paddingSide).toBe('left');
    } finally {
      model.dispose();
    }
  });
});
