// Checkpoint folders: HF layout in and out (tied head absent), F16/BF16 files upcast, keys without the
// base-model prefix, and loader errors that name the tensor.
import '@tensorflow/tfjs-backend-cpu';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import * as tf from '@tensorflow/tfjs-core';
import { afterAll, beforeAll, describe, expect, test } from '@jest/globals';
import { bf16ToF32, f16ToF32, f32ToBf16, f32ToF16, readSafetensors, serializeSafetensors } from '@mmft/core/io';
import { OPTForCausalLM } from '../opt-model';
import { createTinyOptCheckpoint } from '../testing/tiny-checkpoint';

let tmp: string;
beforeAll(async () => {
  await tf.setBackend('cpu');
  tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'mmft-opt-ckpt-'));
});
afterAll(() => fs.rmSync(tmp, { recursive: true, force: true }));

const bytesOf = (t: tf.Tensor): Buffer => Buffer.from((t.dataSync() as Float32Array).slice().buffer);
const readJson = (file: string) => JSON.parse(fs.readFileSync(file, 'utf8')) as Record<string, unknown>;

describe('OPT checkpoint folders', () => {
  test.each([
    ['tied', {}],
    ['untied, post-LN, projections', { tie_word_embeddings: false, do_layer_norm_before: false, word_embed_proj_dim: 8 }],
  ])('fromPretrained → save → fromPretrained is byte-identical (%s)', async (name, options) => {
    const { dir, tensors } = await createTinyOptCheckpoint(path.join(tmp, `rt-${name}`), { seed: 11, ...options });
    const model = await OPTForCausalLM.fromPretrained(dir);
    const out = path.join(tmp, `rt-${name}-saved`);
    try {
      // The loaded values are the file's.
      for (const [key, { data }] of tensors)
        expect([key, bytesOf(model.root.stateDict().get(key)!)]).toEqual([key, Buffer.from(data.buffer)]);
      await model.save(out);
      const file = await readSafetensors(path.join(out, 'model.safetensors'));
      expect(new Set(file.tensors.keys())).toEqual(new Set(tensors.keys()));
      expect(file.tensors.has('lm_head.weight')).toBe(name !== 'tied');
      const config = readJson(path.join(out, 'config.json'));
      expect(config).toMatchObject({ architectures: ['OPTForCausalLM'], model_type: 'opt', prefix: '</s>', torch_dtype: 'float32' });
      expect(readJson(path.join(out, 'generation_config.json'))).toMatchObject({ bos_token_id: 2, eos_token_id: 2, pad_token_id: 1 });
      for (const f of ['tokenizer.json', 'tokenizer_config.json', 'special_tokens_map.json'])
        expect(fs.readFileSync(path.join(out, f))).toEqual(fs.readFileSync(path.join(dir, f)));
      const again = await OPTForCausalLM.fromPretrained(out);
      try {
        const [a, b] = [model.root.stateDict(), again.root.stateDict()];
        expect([...b.keys()]).toEqual([...a.keys()]);
        for (const [key, v] of a) expect([key, bytesOf(b.get(key)!)]).toEqual([key, bytesOf(v)]);
        expect(b.get('lm_head.weight') === b.get('model.decoder.embed_tokens.weight')).toBe(name === 'tied');
      } finally {
        again.dispose();
      }
    } finally {
      model.dispose();
    }
  });

  test.each([
    ['F16', f32ToF16, f16ToF32],
    ['BF16', f32ToBf16, bf16ToF32],
  ] as const)('a %s file loads, upcast to float32', async (dtype, down, up) => {
    const { dir, tensors } = await createTinyOptCheckpoint(path.join(tmp, `half-${dtype}`), { seed: 12, dtype });
    const model = await OPTForCausalLM.fromPretrained(dir);
    try {
      for (const [key, { data }] of tensors) {
        const v = model.root.stateDict().get(key)!;
        expect([key, v.dtype]).toEqual([key, 'float32']);
        expect([key, Array.from(v.dataSync())]).toEqual([key, Array.from(up(down(data)))]);
      }
    } finally {
      model.dispose();
    }
  });

  test('keys saved without the "model." prefix (an OPTModel checkpoint) load', async () => {
    const { dir, tensors } = await createTinyOptCheckpoint(path.join(tmp, 'noprefix'), { seed: 13 });
    const stripped = new Map(
      [...tensors].map(([k, t]) => [k.replace(/^model\./, ''), { dtype: 'F32' as const, shape: t.shape, data: t.data }]),
    );
    fs.writeFileSync(path.join(dir, 'model.safetensors'), serializeSafetensors(stripped, { format: 'pt' }));
    const model = await OPTForCausalLM.fromPretrained(dir);
    try {
      const key = 'model.decoder.layers.1.fc1.weight';
      expect(bytesOf(model.root.stateDict().get(key)!)).toEqual(Buffer.from(tensors.get(key)!.data.buffer));
    } finally {
      model.dispose();
    }
  });

  test('a tied checkpoint that stores lm_head.weight too (as some hub files do) loads, one variable for both', async () => {
    const { dir, tensors } = await createTinyOptCheckpoint(path.join(tmp, 'withhead'), { seed: 14 });
    const all = new Map([...tensors].map(([k, t]) => [k, { dtype: 'F32' as const, shape: t.shape, data: t.data }]));
    all.set('lm_head.weight', all.get('model.decoder.embed_tokens.weight')!);
    fs.writeFileSync(path.join(dir, 'model.safetensors'), serializeSafetensors(all, { format: 'pt' }));
    const model = await OPTForCausalLM.fromPretrained(dir);
    try {
      const state = model.root.stateDict();
      expect(state.get('lm_head.weight')).toBe(state.get('model.decoder.embed_tokens.weight'));
    } finally {
      model.dispose();
    }
  });

  test('a sharded folder (model.safetensors.index.json + shards) loads', async () => {
    const { dir, tensors } = await createTinyOptCheckpoint(path.join(tmp, 'sharded'), { seed: 15 });
    fs.rmSync(path.join(dir, 'model.safetensors'));
    const names = [...tensors.keys()];
    const shards = [names.slice(0, 7), names.slice(7)];
    const weightMap: Record<string, string> = {};
    shards.forEach((group, i) => {
      const file = `model-0000${i + 1}-of-00002.safetensors`;
      const part = new Map(group.map((k) => [k, { dtype: 'F32' as const, shape: tensors.get(k)!.shape, data: tensors.get(k)!.data }]));
      fs.writeFileSync(path.join(dir, file), serializeSafetensors(part, { format: 'pt' }));
      for (const k of group) weightMap[k] = file;
    });
    fs.writeFileSync(path.join(dir, 'model.safetensors.index.json'), JSON.stringify({ metadata: {}, weight_map: weightMap }));
    const model = await OPTForCausalLM.fromPretrained(dir);
    try {
      for (const [key, { data }] of tensors)
        expect([key, bytesOf(model.root.stateDict().get(key)!)]).toEqual([key, Buffer.from(data.buffer)]);
    } finally {
      model.dispose();
    }
  });

  test('a missing tensor is an error naming it and the file', async () => {
    const { dir } = await createTinyOptCheckpoint(path.join(tmp, 'missing'), { omit: ['model.decoder.layers.1.fc2.bias'] });
    await expect(OPTForCausalLM.fromPretrained(dir)).rejects.toThrow(
      /missing \(1\).*model\.safetensors.*model\.decoder\.layers\.1\.fc2\.bias \[16\]/s,
    );
  });

  test('a mis-shaped tensor is an error naming it with both shapes', async () => {
    const name = 'model.decoder.layers.0.self_attn.q_proj.weight';
    const { dir } = await createTinyOptCheckpoint(path.join(tmp, 'misshaped'), { reshape: { [name]: [16, 8] } });
    await expect(OPTForCausalLM.fromPretrained(dir)).rejects.toThrow(
      /wrong shape \(1\).*model\.decoder\.layers\.0\.self_attn\.q_proj\.weight: the model has \[16, 16\], .*model\.safetensors has \[16, 8\]/s,
    );
  });

  test('a folder without model.safetensors, or with another model_type, says so', async () => {
    const { dir } = await createTinyOptCheckpoint(path.join(tmp, 'noweights'));
    fs.rmSync(path.join(dir, 'model.safetensors'));
    await expect(OPTForCausalLM.fromPretrained(dir)).rejects.toThrow(/model\.safetensors/);
    const other = await createTinyOptCheckpoint(path.join(tmp, 'gpt2type'));
    const config = readJson(path.join(other.dir, 'config.json'));
    fs.writeFileSync(path.join(other.dir, 'config.json'), JSON.stringify({ ...config, model_type: 'gpt2' }));
    await expect(OPTForCausalLM.fromPretrained(other.dir)).rejects.toThrow(/config\.json: model_type "gpt2" is not an OPT checkpoint/);
  });
});
