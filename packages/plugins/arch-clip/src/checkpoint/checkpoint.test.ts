import '@tensorflow/tfjs-backend-cpu';
import * as tf from '@tensorflow/tfjs-core';
import { afterAll, beforeAll, describe, expect, test } from '@jest/globals';
import { FOLDER_MARKER, isMmftError, parseSafetensors, serializeSafetensors, type WritableTensor } from '@mmft/core';
import { mkdir, mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ClipModel } from '../clip-model';
import { createTinyClipCheckpoint } from '../testing/tiny-checkpoint';

/** Buffer → plain Uint8Array (the types of @types/node 20 and TS 5.9 disagree on Buffer). */
const u8 = (b: Buffer) => new Uint8Array(b.buffer, b.byteOffset, b.byteLength);

let tmp: string;
let base: string;

beforeAll(async () => {
  await tf.setBackend('cpu');
  tmp = await mkdtemp(join(tmpdir(), 'mmft-clip-'));
  base = (await createTinyClipCheckpoint(join(tmp, 'base'), { seed: 11 })).dir;
});
afterAll(() => rm(tmp, { recursive: true, force: true }));

/** The tensors of base/model.safetensors, editable, and a writer for a variant folder. */
async function variant(name: string, edit: (tensors: Map<string, WritableTensor>) => void): Promise<string> {
  const dir = join(tmp, name);
  await createTinyClipCheckpoint(dir, { seed: 11 });
  const { tensors } = parseSafetensors(u8(await readFile(join(dir, 'model.safetensors'))));
  const writable = new Map<string, WritableTensor>(
    [...tensors].map(([n, t]) => [n, { dtype: t.dtype, shape: t.shape, data: t.data as Float32Array }]),
  );
  edit(writable);
  await writeFile(join(dir, 'model.safetensors'), serializeSafetensors(writable, { format: 'pt' }));
  return dir;
}

async function loadError(dir: string, options = {}): Promise<{ code: string; message: string }> {
  const error = await ClipModel.fromPretrained(dir, options).then(
    () => undefined,
    (e: unknown) => e,
  );
  if (!isMmftError(error)) throw new Error(`expected an MmftError, got ${String(error)}`);
  return error;
}

describe('save / load round trip', () => {
  test('fromPretrained → save → fromPretrained is bit-exact, with the HF file layout', async () => {
    const model = await ClipModel.fromPretrained(base);
    const out = join(tmp, 'roundtrip');
    await model.save(out);
    expect((await readdir(out)).filter((n) => n !== FOLDER_MARKER).sort()).toEqual([
      'config.json',
      'model.safetensors',
      'preprocessor_config.json',
      'special_tokens_map.json',
      'tokenizer.json',
      'tokenizer_config.json',
    ]);
    const [a, b] = await Promise.all([readFile(join(base, 'model.safetensors')), readFile(join(out, 'model.safetensors'))]);
    const [fa, fb] = [parseSafetensors(u8(a)), parseSafetensors(u8(b))];
    expect(fb.metadata).toEqual({ format: 'pt' });
    expect([...fb.tensors.keys()].sort()).toEqual([...fa.tensors.keys()].sort());
    for (const [name, t] of fa.tensors) {
      expect(fb.tensors.get(name)!.dtype).toBe('F32');
      expect(Buffer.from((fb.tensors.get(name)!.data as Float32Array).buffer)).toEqual(Buffer.from((t.data as Float32Array).buffer));
    }
    expect(b.equals(a)).toBe(true);
    for (const file of ['tokenizer.json', 'tokenizer_config.json', 'special_tokens_map.json']) {
      expect((await readFile(join(out, file))).equals(await readFile(join(base, file)))).toBe(true);
    }
    const config = JSON.parse(await readFile(join(out, 'config.json'), 'utf8'));
    expect(config).toMatchObject({
      architectures: ['CLIPModel'],
      model_type: 'clip',
      torch_dtype: 'float32',
      text_config: { model_type: 'clip_text_model' },
    });
    const again = await ClipModel.fromPretrained(out);
    expect(again.config).toEqual(model.config);
    model.dispose();
    again.dispose();
  });

  test('saving over a model folder mmft wrote replaces it and leaves no temp folders', async () => {
    const out = join(tmp, 'overwrite');
    await createTinyClipCheckpoint(out, { seed: 1 });
    const model = await ClipModel.fromPretrained(base);
    await model.save(out);
    expect((await readdir(tmp)).filter((n) => n.startsWith('.'))).toEqual([]);
    expect((await readFile(join(out, 'model.safetensors'))).equals(await readFile(join(base, 'model.safetensors')))).toBe(true);
    model.dispose();
  });

  test('saving over a folder holding anything else is refused unless forced', async () => {
    const out = join(tmp, 'foreign');
    await createTinyClipCheckpoint(out, { seed: 1 });
    await writeFile(join(out, 'notes.txt'), 'mine');
    const model = await ClipModel.fromPretrained(base);
    await expect(model.save(out)).rejects.toThrow(
      `${out} is not empty: it holds a model folder mmft wrote plus entries it did not write (notes.txt)`,
    );
    expect(await readFile(join(out, 'notes.txt'), 'utf8')).toBe('mine');
    const plain = join(tmp, 'plain');
    await mkdir(plain);
    await writeFile(join(plain, 'config.json'), '{}');
    await expect(model.save(plain)).rejects.toThrow(
      'entries that mmft did not write as a model folder; writing there would replace config.json',
    );
    await model.save(out, { force: true });
    expect(await readdir(out)).not.toContain('notes.txt');
    model.dispose();
  });

  test('sharded checkpoints (model.safetensors.index.json) load to the same weights', async () => {
    const dir = join(tmp, 'sharded');
    await createTinyClipCheckpoint(dir, { seed: 11 });
    const { tensors } = parseSafetensors(u8(await readFile(join(dir, 'model.safetensors'))));
    const names = [...tensors.keys()];
    const shard = (part: string[]) => new Map(part.map((n) => [n, { ...tensors.get(n)!, data: tensors.get(n)!.data as Float32Array }]));
    const [first, second] = [names.slice(0, 20), names.slice(20)];
    await writeFile(join(dir, 'model-00001-of-00002.safetensors'), serializeSafetensors(shard(first)));
    await writeFile(join(dir, 'model-00002-of-00002.safetensors'), serializeSafetensors(shard(second)));
    const weightMap = Object.fromEntries([
      ...first.map((n) => [n, 'model-00001-of-00002.safetensors']),
      ...second.map((n) => [n, 'model-00002-of-00002.safetensors']),
    ]);
    await writeFile(join(dir, 'model.safetensors.index.json'), JSON.stringify({ metadata: {}, weight_map: weightMap }));
    await rm(join(dir, 'model.safetensors'));
    const [a, b] = [await ClipModel.fromPretrained(dir), await ClipModel.fromPretrained(base)];
    for (const [name, v] of a.root.stateDict()) expect(v.dataSync()).toEqual(b.root.stateDict().get(name)!.dataSync());
    a.dispose();
    b.dispose();
  });
});

describe('loader errors name the tensor and the file', () => {
  test('missing tensor', async () => {
    const dir = await variant('missing', (t) => t.delete('text_model.encoder.layers.0.mlp.fc1.bias'));
    const e = await loadError(dir);
    expect(e.code).toBe('E_CHECKPOINT');
    expect(e.message).toContain('text_model.encoder.layers.0.mlp.fc1.bias');
    expect(e.message).toContain(join(dir, 'model.safetensors'));
  });

  test('wrong shape', async () => {
    const dir = await variant('shape', (t) =>
      t.set('visual_projection.weight', { dtype: 'F32', shape: [5, 8], data: new Float32Array(40) }),
    );
    const e = await loadError(dir);
    expect(e.code).toBe('E_CHECKPOINT');
    expect(e.message).toMatch(/"visual_projection\.weight" is \[5, 8\] in the file, the model expects \[4, 8\]/);
  });

  test('truncated safetensors', async () => {
    const dir = join(tmp, 'truncated');
    await createTinyClipCheckpoint(dir, { seed: 11 });
    const bytes = await readFile(join(dir, 'model.safetensors'));
    await writeFile(join(dir, 'model.safetensors'), bytes.subarray(0, bytes.length - 100));
    const e = await loadError(dir);
    expect(e.code).toBe('E_SAFETENSORS');
    expect(e.message).toContain(join(dir, 'model.safetensors'));
  });

  test('unknown model_type lists the known ones', async () => {
    const dir = join(tmp, 'blip');
    await createTinyClipCheckpoint(dir, { seed: 11 });
    const config = JSON.parse(await readFile(join(dir, 'config.json'), 'utf8'));
    await writeFile(join(dir, 'config.json'), JSON.stringify({ ...config, model_type: 'blip-2' }));
    const e = await loadError(dir);
    expect(e.code).toBe('E_CONFIG');
    expect(e.message).toContain('"blip-2"');
    expect(e.message).toContain('known model types: clip');
  });

  test('missing config.json', async () => {
    const dir = join(tmp, 'noconfig');
    await createTinyClipCheckpoint(dir, { seed: 11 });
    await rm(join(dir, 'config.json'));
    const e = await loadError(dir);
    expect(e.code).toBe('E_CHECKPOINT');
    expect(e.message).toContain(join(dir, 'config.json'));
  });

  test('unexpected tensors fail, or are listed and skipped with ignoreUnexpected', async () => {
    const dir = await variant('unexpected', (t) => t.set('logit_bias', { dtype: 'F32', shape: [], data: new Float32Array([1]) }));
    const e = await loadError(dir);
    expect(e.code).toBe('E_CHECKPOINT');
    expect(e.message).toContain('logit_bias');
    const model = await ClipModel.fromPretrained(dir, { ignoreUnexpected: true });
    expect(model.loadReport?.unexpected).toEqual(['logit_bias']);
    model.dispose();
  });

  test('position_ids buffers of transformers < 4.31 checkpoints are accepted and reported', async () => {
    const dir = await variant('legacy-buffers', (t) => {
      t.set('text_model.embeddings.position_ids', { dtype: 'I64', shape: [1, 16], data: Int32Array.from({ length: 16 }, (_, i) => i) });
      t.set('vision_model.embeddings.position_ids', { dtype: 'I64', shape: [1, 5], data: Int32Array.from({ length: 5 }, (_, i) => i) });
    });
    const model = await ClipModel.fromPretrained(dir);
    expect(model.loadReport?.ignoredBuffers.sort()).toEqual(['text_model.embeddings.position_ids', 'vision_model.embeddings.position_ids']);
    expect(model.loadReport?.unexpected).toEqual([]);
    model.dispose();
  });

  test('a failed load leaks no tensors', async () => {
    const dir = join(tmp, 'missing');
    const before = tf.memory().numTensors;
    await loadError(dir);
    expect(tf.memory().numTensors).toBe(before);
  });
});
