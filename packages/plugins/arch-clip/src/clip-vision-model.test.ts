import '@tensorflow/tfjs-backend-cpu';
import * as tf from '@tensorflow/tfjs-core';
import { afterAll, beforeAll, describe, expect, test } from '@jest/globals';
import {
  architectureContext,
  FOLDER_MARKER,
  isMmftError,
  isVisionEncoderModel,
  parseSafetensors,
  serializeSafetensors,
  type ArchitectureProvider,
  type WritableTensor,
} from '@mmft/core';
import { registerGradients, type Module } from '@mmft/core/nn';
import { mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ClipModel } from './clip-model';
import { ClipVisionModel } from './clip-vision-model';
import { parseClipVisionConfig } from './checkpoint/parse-vision-config';
import { clipArchitecture, clipVisionArchitecture } from './plugin';
import { refVisionHiddenStates, type RefWeights } from './testing/reference-clip';
import { createTinyClipCheckpoint, createTinyClipVisionCheckpoint } from './testing/tiny-checkpoint';

const u8 = (b: Buffer) => new Uint8Array(b.buffer, b.byteOffset, b.byteLength);
const bytes = (t: tf.Tensor) => Buffer.from((t.dataSync() as Float32Array).slice().buffer);

let tmp: string;
let clipDir: string;
beforeAll(async () => {
  await tf.setBackend('cpu');
  registerGradients();
  tmp = await mkdtemp(join(tmpdir(), 'mmft-clip-vision-'));
  // Three vision layers so that "stop after the deepest layer asked" has layers to skip.
  clipDir = (await createTinyClipCheckpoint(join(tmp, 'clip'), { seed: 21, vision: { num_hidden_layers: 3 } })).dir;
});
afterAll(() => rm(tmp, { recursive: true, force: true }));

const pixels = (seed: number, batch = 2, size = 8) => tf.randomNormal([batch, 3, size, size], 0, 1, 'float32', seed);

describe('ClipVisionModel from a CLIPModel folder = CLIPModel vision tower', () => {
  test('same weights as ClipModel.vision_model.*, the rest of CLIP listed as skipped', async () => {
    const [clip, vision] = [await ClipModel.fromPretrained(clipDir), await ClipVisionModel.fromPretrained(clipDir)];
    const clipVision = [...clip.root.stateDict()].filter(([n]) => n.startsWith('vision_model.'));
    expect([...vision.root.stateDict().keys()]).toEqual(clipVision.map(([n]) => n));
    for (const [name, v] of clipVision) expect(bytes(vision.root.stateDict().get(name)!)).toEqual(bytes(v));
    const others = [...clip.root.stateDict().keys()].filter((n) => !n.startsWith('vision_model.'));
    expect(others).toContain('logit_scale');
    expect(vision.loadReport!.skipped.sort()).toEqual(others.sort());
    expect(vision.loadReport!.unexpected).toEqual([]);
    expect(vision.config).toMatchObject({
      model_type: 'clip_vision_model',
      hidden_size: 8,
      num_hidden_layers: 3,
      image_size: 8,
      patch_size: 4,
    });
    expect([vision.hiddenSize, vision.numLayers, vision.imageSize, vision.patchSize, vision.hasClassToken]).toEqual([8, 3, 8, 4, true]);
    expect(vision.processor.imageProcessing).toEqual(clip.processor.imageProcessing);
    expect(vision.processor.towers).toEqual({ vision: ['vision_model.**'] });
    expect(vision.processor.tokenizer).toBeUndefined();
    expect(isVisionEncoderModel(vision)).toBe(true);
    clip.dispose();
    vision.dispose();
  });

  test('forward and hidden states equal CLIPModel vision_model outputs bit for bit', async () => {
    const [clip, vision] = [await ClipModel.fromPretrained(clipDir), await ClipVisionModel.fromPretrained(clipDir)];
    const px = pixels(3);
    const expected = clip.root
      .child<Module<[tf.Tensor], { lastHiddenState: tf.Tensor; pooledOutput: tf.Tensor }>>('vision_model')
      .forward(px);
    const out = vision.forward({ pixelValues: px });
    expect(out.lastHiddenState.shape).toEqual([2, 5, 8]);
    expect(bytes(out.lastHiddenState)).toEqual(bytes(expected.lastHiddenState));
    expect(bytes(out.pooledOutput)).toEqual(bytes(expected.pooledOutput));
    const all = vision.hiddenStates(px);
    expect(all).toHaveLength(4);
    // The last state is the encoder output before post_layernorm, i.e. last_hidden_state.
    expect(bytes(all[3]!)).toEqual(bytes(expected.lastHiddenState));
    const picked = vision.hiddenStates(px, [-2, 0, 3, 1]);
    [2, 0, 3, 1].forEach((k, i) => expect(bytes(picked[i]!)).toEqual(bytes(all[k]!)));
    // Consecutive states differ (each index is a different layer's output).
    for (let k = 1; k < 4; k++) expect(bytes(all[k]!)).not.toEqual(bytes(all[k - 1]!));
    tf.dispose([px, ...Object.values(expected), ...Object.values(out), ...all, ...picked]);
    clip.dispose();
    vision.dispose();
  });
});

describe('hiddenStates against an independent float64 computation', () => {
  test('every state (embeddings after pre_layrnorm, each layer) of a perturbed 2-layer tower', () => {
    const model = ClipVisionModel.fromConfig(
      {
        hidden_size: 6,
        intermediate_size: 10,
        num_hidden_layers: 2,
        num_attention_heads: 3,
        image_size: 6,
        patch_size: 3,
        hidden_act: 'gelu',
      },
      { seed: 4 },
    );
    // Non-trivial LayerNorm affine terms and biases.
    model.root
      .namedParameters()
      .forEach(([, v], i) => v.assign(tf.tidy(() => tf.add(v, tf.randomNormal(v.shape, 0, 0.3, 'float32', 50 + i)))));
    const weights: RefWeights = new Map(model.root.namedParameters().map(([n, v]) => [n, v.arraySync()]));
    const px = pixels(9, 2, 6);
    const images = px.arraySync() as number[][][][];
    const states = model.hiddenStates(px);
    expect(states.map((s) => s.shape)).toEqual([
      [2, 5, 6],
      [2, 5, 6],
      [2, 5, 6],
    ]);
    images.forEach((image, b) => {
      const expected = refVisionHiddenStates(weights, model.config, image);
      expect(expected).toHaveLength(3);
      states.forEach((state, k) => {
        const actual = (state.arraySync() as number[][][])[b]!.flat();
        const want = expected[k]!.flat();
        actual.forEach((v, i) => expect(Math.abs(v - want[i]!)).toBeLessThanOrEqual(1e-5 + 1e-4 * Math.abs(want[i]!)));
      });
    });
    tf.dispose([px, ...states]);
    model.dispose();
  });
});

describe('hiddenStates runs only what it needs and leaks nothing', () => {
  test('layers after the deepest index asked are not run', async () => {
    const vision = await ClipVisionModel.fromPretrained(clipDir);
    const last = vision.root.getModule('vision_model.encoder.layers.2') as Module<[tf.Tensor, undefined], tf.Tensor>;
    last.forward = () => {
      throw new Error('layer 2 ran');
    };
    const px = pixels(5);
    const states = vision.hiddenStates(px, [-2, 1]);
    expect(states.map((s) => s.shape)).toEqual([
      [2, 5, 8],
      [2, 5, 8],
    ]);
    expect(() => vision.hiddenStates(px, [-1])).toThrow('layer 2 ran');
    expect(vision.hiddenStates(px, [])).toEqual([]);
    tf.dispose([px, ...states]);
    vision.dispose();
  });

  test('only the returned tensors stay allocated; a repeated index gets its own tensor', async () => {
    const vision = await ClipVisionModel.fromPretrained(clipDir);
    const px = pixels(6);
    const before = tf.memory().numTensors;
    const states = vision.hiddenStates(px, [1, 1, -1]);
    expect(tf.memory().numTensors).toBe(before + 3);
    states[0]!.dispose();
    expect(states[1]!.isDisposed).toBe(false);
    expect(bytes(states[1]!).length).toBe(2 * 5 * 8 * 4);
    tf.dispose(states);
    const out = vision.forward({ pixelValues: px });
    expect(tf.memory().numTensors).toBe(before + 2);
    tf.dispose(Object.values(out));
    expect(tf.memory().numTensors).toBe(before);
    px.dispose();
    vision.dispose();
  });

  test('indices outside the states are E_INPUT errors with the valid range', async () => {
    const vision = await ClipVisionModel.fromPretrained(clipDir);
    const px = pixels(7);
    const before = tf.memory().numTensors;
    for (const bad of [4, -5, 1.5]) {
      expect(() => vision.hiddenStates(px, [bad])).toThrow(
        `hidden-state index ${bad} is out of range: a CLIP vision tower with 3 layers has 4 hidden states`,
      );
    }
    expect(() => vision.hiddenStates(px, [4])).toThrow(/indices run from -4 to 3/);
    expect(tf.memory().numTensors).toBe(before);
    expect(() => vision.forward({})).toThrow(/needs pixelValues/);
    px.dispose();
    vision.dispose();
  });
});

describe('save / load (CLIPVisionModel layout)', () => {
  test('a CLIPModel folder saved as CLIPVisionModel: vision_model.* only, config at the top level, reloads bit-exact', async () => {
    const vision = await ClipVisionModel.fromPretrained(clipDir);
    const out = join(tmp, 'saved-vision');
    await vision.save(out);
    expect((await readdir(out)).filter((n) => n !== FOLDER_MARKER).sort()).toEqual([
      'config.json',
      'model.safetensors',
      'preprocessor_config.json',
    ]);
    const config = JSON.parse(await readFile(join(out, 'config.json'), 'utf8'));
    expect(config).toMatchObject({
      architectures: ['CLIPVisionModel'],
      model_type: 'clip_vision_model',
      hidden_size: 8,
      num_hidden_layers: 3,
      image_size: 8,
      patch_size: 4,
      torch_dtype: 'float32',
    });
    expect(config).not.toHaveProperty('text_config');
    expect(config).not.toHaveProperty('vision_config');
    const file = parseSafetensors(u8(await readFile(join(out, 'model.safetensors'))));
    expect(file.metadata).toEqual({ format: 'pt' });
    expect([...file.tensors.keys()].every((n) => n.startsWith('vision_model.'))).toBe(true);
    expect(JSON.parse(await readFile(join(out, 'preprocessor_config.json'), 'utf8'))).toEqual(
      JSON.parse(await readFile(join(clipDir, 'preprocessor_config.json'), 'utf8')),
    );
    const again = await ClipVisionModel.fromPretrained(out);
    expect(again.loadReport!.skipped).toEqual([]);
    expect(again.config).toMatchObject(vision.config);
    for (const [name, v] of vision.root.stateDict()) expect(bytes(again.root.stateDict().get(name)!)).toEqual(bytes(v));
    vision.dispose();
    again.dispose();
  });

  test('visual_projection (CLIPVisionModelWithProjection) is skipped; other unknown tensors fail unless ignoreUnexpected', async () => {
    const dir = (await createTinyClipVisionCheckpoint(join(tmp, 'with-projection'), { seed: 3 })).dir;
    const { tensors } = parseSafetensors(u8(await readFile(join(dir, 'model.safetensors'))));
    const writable = new Map<string, WritableTensor>(
      [...tensors].map(([n, t]) => [n, { dtype: t.dtype, shape: t.shape, data: t.data as Float32Array }]),
    );
    writable.set('visual_projection.weight', { dtype: 'F32', shape: [4, 8], data: new Float32Array(32) });
    await writeFile(join(dir, 'model.safetensors'), serializeSafetensors(writable, { format: 'pt' }));
    const loaded = await ClipVisionModel.fromPretrained(dir);
    expect(loaded.loadReport!.skipped).toEqual(['visual_projection.weight']);
    loaded.dispose();
    writable.set('text_model.final_layer_norm.weight', { dtype: 'F32', shape: [8], data: new Float32Array(8) });
    await writeFile(join(dir, 'model.safetensors'), serializeSafetensors(writable, { format: 'pt' }));
    const before = tf.memory().numTensors;
    const error = await ClipVisionModel.fromPretrained(dir).then(
      () => undefined,
      (e: unknown) => e,
    );
    expect(isMmftError(error) && error.code).toBe('E_CHECKPOINT');
    expect((error as Error).message).toContain('1 tensor(s) that CLIPVisionModel does not have: text_model.final_layer_norm.weight');
    expect(tf.memory().numTensors).toBe(before);
    const lenient = await ClipVisionModel.fromPretrained(dir, { ignoreUnexpected: true });
    expect(lenient.loadReport!.unexpected).toEqual(['text_model.final_layer_norm.weight']);
    lenient.dispose();
  });
});

describe('config.json (CLIPVisionConfig)', () => {
  test('defaults are ViT-B/32 (configuration_clip.py); a CLIP config gives its vision_config, legacy vision_config_dict winning', () => {
    expect(parseClipVisionConfig({})).toMatchObject({
      model_type: 'clip_vision_model',
      hidden_size: 768,
      intermediate_size: 3072,
      num_hidden_layers: 12,
      num_attention_heads: 12,
      num_channels: 3,
      image_size: 224,
      patch_size: 32,
      hidden_act: 'quick_gelu',
      layer_norm_eps: 1e-5,
      initializer_range: 0.02,
      initializer_factor: 1,
    });
    const fromClip = parseClipVisionConfig({
      model_type: 'clip',
      text_config: { hidden_size: 16 },
      vision_config: { hidden_size: 64, num_attention_heads: 4, model_type: 'clip_vision_model' },
      vision_config_dict: { num_hidden_layers: 2 },
    });
    expect(fromClip).toMatchObject({ model_type: 'clip_vision_model', hidden_size: 64, num_attention_heads: 4, num_hidden_layers: 2 });
    expect(fromClip).not.toHaveProperty('text_config');
  });

  test('errors name the file and the field as the file spells it', () => {
    expect(() => parseClipVisionConfig({ hidden_size: 10, num_attention_heads: 3 }, 'v/config.json')).toThrow(
      'v/config.json: hidden_size (10) must be divisible by num_attention_heads (3)',
    );
    expect(() => parseClipVisionConfig({ model_type: 'clip', vision_config: { hidden_size: 'big' } }, 'c/config.json')).toThrow(
      /c\/config\.json: field "vision_config\.hidden_size"/,
    );
    expect(() => parseClipVisionConfig({ model_type: 'clip', vision_config: { patch_size: 64, image_size: 32 } }, 'c.json')).toThrow(
      'c.json: vision_config.patch_size (64) is larger than vision_config.image_size (32)',
    );
    expect(() => parseClipVisionConfig({ hidden_act: 'swishy' }, 'c.json')).toThrow(/hidden_act "swishy" is unknown; known: .*quick_gelu/);
    expect(() => parseClipVisionConfig({ model_type: 'siglip_vision_model' }, 'c.json')).toThrow(
      'c.json: model_type "siglip_vision_model" is not a CLIP vision checkpoint; known model types: clip_vision_model, clip (its vision tower)',
    );
  });

  test('fromConfig initialises as CLIPModel does its vision tower (same seed, same names → same weights); initializer_factor scales the stds', () => {
    const vision = { hidden_size: 8, intermediate_size: 16, num_hidden_layers: 2, num_attention_heads: 2, image_size: 8, patch_size: 4 };
    const clip = ClipModel.fromConfig(
      { vision_config: vision, text_config: { hidden_size: 8, num_attention_heads: 2, num_hidden_layers: 1 } },
      { seed: 7 },
    );
    const alone = ClipVisionModel.fromConfig(vision, { seed: 7 });
    for (const [name, v] of alone.root.stateDict()) expect(bytes(v)).toEqual(bytes(clip.root.stateDict().get(name)!));
    const doubled = ClipVisionModel.fromConfig({ ...vision, initializer_factor: 2 }, { seed: 7 });
    const [a, b] = ['vision_model.embeddings.class_embedding', 'vision_model.encoder.layers.1.mlp.fc2.weight'].map((n) => [
      alone.root.stateDict().get(n)!.dataSync(),
      doubled.root.stateDict().get(n)!.dataSync(),
    ]);
    for (const [one, two] of [a!, b!]) one.forEach((v, i) => expect(two[i]!).toBeCloseTo(2 * v, 6));
    expect(alone.root.training).toBe(true);
    clip.dispose();
    alone.dispose();
    doubled.dispose();
  });
});

describe('provider clip-vision', () => {
  test('model_type clip_vision_model resolves to it; a bridge builds its tower from vision_config through the registry', async () => {
    const context = architectureContext({
      list: () => [clipArchitecture as ArchitectureProvider, clipVisionArchitecture as ArchitectureProvider],
    });
    expect(context.resolveModelType('clip_vision_model')).toBe(clipVisionArchitecture);
    expect(context.resolveModelType('clip')).toBe(clipArchitecture);
    // LLaVA's vision_config as llava-hf checkpoints carry it, with keys CLIPVisionConfig does not use.
    const visionConfig = {
      model_type: 'clip_vision_model',
      hidden_size: 8,
      intermediate_size: 16,
      num_hidden_layers: 2,
      num_attention_heads: 2,
      image_size: 8,
      patch_size: 4,
      projection_dim: 4,
      vocab_size: 32000,
    };
    const tower = await context.resolveModelType('clip_vision_model').fromConfig({ config: visionConfig, seed: 1 }, context);
    expect(isVisionEncoderModel(tower)).toBe(true);
    expect(tower.root.namedParameters()[0]![0]).toBe('vision_model.embeddings.class_embedding');
    expect((tower.config as Record<string, unknown>).vocab_size).toBe(32000);
    const provider = clipVisionArchitecture as ArchitectureProvider;
    const loaded = await provider.fromConfig({ checkpoint: clipDir });
    expect(loaded.modelType).toBe('clip_vision_model');
    await expect(provider.fromConfig({ config: visionConfig, tokenizer: clipDir })).rejects.toThrow(
      'model (clip-vision): a CLIP vision tower has no tokenizer',
    );
    await expect(provider.fromConfig({ config: { hidden_size: -1 } })).rejects.toThrow(/hidden_size/);
    tower.dispose();
    loaded.dispose();
  });
});
