// The causal-LM ONNX export on the embedded models (models/llama-shapes-base: grouped-query attention
// and rotary positions; models/opt-shapes-base: learned positions at offset 2, tied head) and on a tiny
// GPT-2 checkpoint (Conv1D weights, tied head): model.onnx in optimum's layout loads in onnxruntime-node,
// the prompt logits of a left-padded batch of two match the tfjs model within 1e-4, and greedy decoding
// one token per step through the KV cache gives generate()'s tokens. A LoRA fine-tune of the Llama
// exports through `mmft export onnx --adapter` (merged first) and decodes as `mmft generate --adapter`.
import '@mmft/exporter-onnx/jest-ort-realm';
import 'reflect-metadata';
import { afterAll, beforeAll, describe, expect, test } from '@jest/globals';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import * as tf from '@tensorflow/tfjs-core';
import type { CausalLMBase } from '@mmft/core/lm';
import { positionIdsFromMask } from '@mmft/core/nn';
import { selectBackend, tfjsBackendConfigSchema } from '@mmft/backend-tfjs';
import { LlamaForCausalLM } from '@mmft/arch-llama';
import { OPTForCausalLM } from '@mmft/arch-opt';
import { GPT2LMHeadModel } from '@mmft/arch-gpt2';
import { createTinyGpt2Checkpoint } from '@mmft/arch-gpt2/testing';
import { runCliForTest } from '@mmft/cli/testing';
import { writeSafetensors, type WritableTensor } from '@mmft/core/io';
import { decoderLogits, exportCausalLm, greedyDecodeOnnx } from '@mmft/exporter-onnx';

const ROOT = path.resolve(__dirname, '..', '..');
const PROMPTS = ['the red circle is left of', 'how many squares are there in the picture ?'];
const NEW_TOKENS = 12;
let dir: string;

beforeAll(async () => {
  dir = fs.mkdtempSync(path.join(os.tmpdir(), 'mmft-onnx-causal-e2e-'));
  await selectBackend(tfjsBackendConfigSchema.parse({}));
});
afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));

const cases: Array<[string, () => Promise<CausalLMBase>]> = [
  ['models/llama-shapes-base', () => LlamaForCausalLM.fromPretrained(path.join(ROOT, 'models/llama-shapes-base'))],
  ['models/opt-shapes-base', () => OPTForCausalLM.fromPretrained(path.join(ROOT, 'models/opt-shapes-base'))],
  [
    'a tiny GPT-2 checkpoint',
    async () => {
      const ck = await createTinyGpt2Checkpoint(path.join(dir, 'gpt2-ckpt'), {
        seed: 4,
        padToken: '<|endoftext|>',
        config: { n_embd: 32, n_head: 4, n_layer: 2, n_positions: 64 },
      });
      return GPT2LMHeadModel.fromPretrained(ck.dir);
    },
  ],
];

describe.each(cases)('ONNX export of %s', (name, load) => {
  let model: CausalLMBase;
  let file: string;
  let ids: number[][];
  let mask: number[][];

  beforeAll(async () => {
    model = await load();
    const out = path.join(dir, name.replace(/\W+/g, '-'));
    file = (await exportCausalLm(model, out)).model;
    const encoded = model.tokenizer!.encode(PROMPTS, { padding: 'longest', paddingSide: 'left' });
    [ids, mask] = [encoded.inputIds, encoded.attentionMask];
  });
  afterAll(() => model.dispose());

  test('the prompts are a left-padded batch of two', () => {
    expect(mask[0]![0]).toBe(0);
    expect(mask[1]!.every((m) => m === 1)).toBe(true);
  });

  test('prompt logits match the tfjs model within 1e-4 at every real position', async () => {
    const onnx = await decoderLogits(file, ids, mask);
    const [rows, length] = [ids.length, ids[0]!.length];
    const inputIds = tf.tensor2d(ids, [rows, length], 'int32');
    const attentionMask = tf.tensor2d(mask, [rows, length], 'int32');
    // Positions from the mask, as generate() passes them (GPT2Model.forward alone would count the left padding).
    const positionIds = positionIdsFromMask(attentionMask, 0, length);
    const logits = model.forward({ inputIds, attentionMask, positionIds }).logits;
    const expected = logits.dataSync() as Float32Array;
    const vocab = logits.shape[2]!;
    tf.dispose([inputIds, attentionMask, positionIds, logits]);
    expect(onnx.dims).toEqual([rows, length, vocab]);
    let max = 0;
    for (let r = 0; r < rows; r++) {
      for (let t = 0; t < length; t++) {
        if (mask[r]![t] === 0) continue;
        for (let v = 0; v < vocab; v++) {
          const at = (r * length + t) * vocab + v;
          max = Math.max(max, Math.abs(onnx.data[at]! - expected[at]!));
        }
      }
    }
    expect(max).toBeLessThanOrEqual(1e-4);
  });

  test('greedy decoding through the KV cache equals the tfjs model’s greedy generate(), token for token', async () => {
    const [rows, length] = [ids.length, ids[0]!.length];
    const inputIds = tf.tensor2d(ids, [rows, length], 'int32');
    const attentionMask = tf.tensor2d(mask, [rows, length], 'int32');
    const expected = await model.generate({ inputIds, attentionMask }, { maxNewTokens: NEW_TOKENS, doSample: false });
    tf.dispose([inputIds, attentionMask]);
    const eos = model.generationConfig.eos_token_id as number | number[] | undefined;
    const pad = (model.generationConfig.pad_token_id as number | undefined) ?? undefined;
    const tokens = await greedyDecodeOnnx(file, ids, NEW_TOKENS, eos ?? undefined, { attentionMask: mask, padTokenId: pad });
    expect(tokens).toEqual(expected.sequences);
    expect(tokens.flat().length).toBeGreaterThan(2);
  });
});

describe('a LoRA fine-tune of models/llama-shapes-base', () => {
  const llama = path.join(ROOT, 'models/llama-shapes-base');
  const PROMPT = 'the blue square is';
  let adapter: string;

  beforeAll(async () => {
    // An adapter in PEFT's layout with B ≠ 0 (a trained one; PEFT starts B at zero), so merging changes the weights.
    adapter = path.join(dir, 'lora');
    fs.mkdirSync(adapter);
    const config = JSON.parse(fs.readFileSync(path.join(llama, 'config.json'), 'utf8')) as Record<string, number>;
    const [r, hidden, kvWidth] = [4, config.hidden_size!, config.num_key_value_heads! * config.head_dim!];
    let seed = 7;
    const random = (n: number, scale: number) =>
      Float32Array.from({ length: n }, () => {
        seed = (seed * 1103515245 + 12345) % 2147483648;
        return (seed / 2147483648 - 0.5) * scale;
      });
    const tensors = new Map<string, WritableTensor>();
    for (let i = 0; i < config.num_hidden_layers!; i++) {
      for (const [name, out] of [
        ['q_proj', config.num_attention_heads! * config.head_dim!],
        ['v_proj', kvWidth],
      ] as const) {
        const key = `base_model.model.model.layers.${i}.self_attn.${name}`;
        tensors.set(`${key}.lora_A.weight`, { dtype: 'F32', shape: [r, hidden], data: random(r * hidden, 1) });
        tensors.set(`${key}.lora_B.weight`, { dtype: 'F32', shape: [out, r], data: random(out * r, 1) });
      }
    }
    await writeSafetensors(path.join(adapter, 'adapter_model.safetensors'), tensors, { format: 'pt' });
    fs.writeFileSync(
      path.join(adapter, 'adapter_config.json'),
      JSON.stringify({
        peft_type: 'LORA',
        task_type: 'CAUSAL_LM',
        r,
        lora_alpha: 8,
        target_modules: ['q_proj', 'v_proj'],
        lora_dropout: 0,
        bias: 'none',
      }),
    );
  });

  test('mmft export onnx --adapter --check passes, and the merged model.onnx decodes as mmft generate --adapter does', async () => {
    const out = path.join(dir, 'llama-lora-onnx');
    const exported = await runCliForTest(['export', 'onnx', llama, '--adapter', adapter, '--out', out, '--check']);
    expect(exported.stderr).toBe('');
    expect(exported.code).toBe(0);
    const generate = async (extra: string[]) => {
      const run = await runCliForTest(['generate', llama, ...extra, '--prompt', PROMPT, '--max-new-tokens', `${NEW_TOKENS}`, '--json']);
      expect(run.code).toBe(0);
      return (JSON.parse(run.stdout) as { sequences: number[][] }).sequences;
    };
    const tuned = await generate(['--adapter', adapter]);
    const base = await generate([]);
    expect(tuned).not.toEqual(base); // the adapter changes what the model says

    const model = await LlamaForCausalLM.fromPretrained(llama);
    const ids = model.tokenizer!.encode([PROMPT]).inputIds;
    const eos = model.generationConfig.eos_token_id as number;
    model.dispose();
    expect(await greedyDecodeOnnx(path.join(out, 'model.onnx'), ids, NEW_TOKENS, eos)).toEqual(tuned);
  });
});
