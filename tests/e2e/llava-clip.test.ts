// LLaVA over the real towers: @mmft/arch-clip's CLIPVisionModel (clip_vision_model) and
// @mmft/arch-llama's LlamaForCausalLM, both built through the CLI's registry by model_type; saved in
// the Hub layout and loaded back from it and from the transformers ≥ 4.52 layout.
import 'reflect-metadata';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, test } from '@jest/globals';
import * as tf from '@tensorflow/tfjs-core';
import { createCliContext } from '@mmft/cli';
import { architectureContext, isVisionEncoderModel, type VisionLanguageModel } from '@mmft/core';
import { readSafetensors, writeSafetensors } from '@mmft/core/io';

const CONFIG = {
  vision_config: {
    model_type: 'clip_vision_model',
    hidden_size: 8,
    intermediate_size: 16,
    num_hidden_layers: 2,
    num_attention_heads: 2,
    image_size: 8,
    patch_size: 4,
  },
  text_config: {
    model_type: 'llama',
    vocab_size: 40,
    hidden_size: 16,
    intermediate_size: 32,
    num_hidden_layers: 2,
    num_attention_heads: 4,
    num_key_value_heads: 2,
    max_position_embeddings: 64,
  },
  image_token_index: 39,
};

type Llava = VisionLanguageModel & {
  numImageTokens: number;
  loadReport?: { layout: string };
  visionTower: VisionLanguageModel;
  getImageFeatures(p: tf.Tensor): tf.Tensor;
};

describe('LLaVA with CLIP vision and Llama', () => {
  const dir = mkdtempSync(join(tmpdir(), 'llava-clip-'));
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  test('features are the projected CLIP layer −2 without CLS; both key layouts load to the same logits', async () => {
    const registry = await createCliContext({ isTTY: false }).createRegistry();
    const backend = registry.resolve('backend', 'tfjs');
    await backend.select(backend.configSchema.parse({ prefer: ['cpu'] }));
    const context = architectureContext(registry);
    const llava = registry.resolveModelType('llava');
    const model = (await llava.fromConfig(llava.configSchema.parse({ config: CONFIG, seed: 2 }), context)) as Llava;
    const loaded: Llava[] = [];
    try {
      expect(model.numImageTokens).toBe(4); // (8/4)² + CLS − CLS
      expect(isVisionEncoderModel(model.visionTower)).toBe(true);
      const names = [...model.root.stateDict().keys()];
      expect(names).toEqual(
        expect.arrayContaining([
          'vision_tower.vision_model.embeddings.class_embedding',
          'language_model.model.embed_tokens.weight',
          'language_model.lm_head.weight',
        ]),
      );
      const pixels = tf.randomUniform([1, 3, 8, 8], -1, 1, 'float32', 3);
      const features = model.getImageFeatures(pixels);
      const expected = tf.tidy(() => {
        const tower = model.visionTower as unknown as { hiddenStates(p: tf.Tensor, l: number[]): tf.Tensor[] };
        const [state] = tower.hiddenStates(pixels, [-2]);
        const x = tf.slice(state!, [0, 1, 0], [-1, -1, -1]);
        const l1 = model.root.getModule('multi_modal_projector.linear_1');
        const l2 = model.root.getModule('multi_modal_projector.linear_2');
        const h = tf.add(tf.matMul(tf.reshape(x, [4, 8]), l1.param('weight'), false, true), l1.param('bias'));
        const g = tf.mul(tf.mul(h, 0.5), tf.add(1, tf.erf(tf.mul(h, Math.SQRT1_2))));
        return tf.add(tf.matMul(g, l2.param('weight'), false, true), l2.param('bias'));
      });
      expect(tf.max(tf.abs(tf.sub(tf.reshape(features, [4, 16]), expected))).dataSync()[0]).toBeLessThan(1e-5);

      const ids = tf.tensor2d([[1, 39, 39, 39, 39, 5, 6]], undefined, 'int32');
      const reference = model.forward({ inputIds: ids, pixelValues: pixels }).logits.arraySync() as number[][][];
      const hub = join(dir, 'hub');
      await model.save(hub);
      const current = join(dir, 'current');
      await model.save(current);
      const file = join(current, 'model.safetensors');
      const { tensors } = await readSafetensors(file);
      const rename = (k: string) =>
        k.startsWith('language_model.model.')
          ? `model.language_model.${k.slice(21)}`
          : k.startsWith('language_model.lm_head.')
            ? k.slice(15)
            : `model.${k}`;
      await writeSafetensors(file, new Map([...tensors].map(([k, v]) => [rename(k), v])), { format: 'pt' });
      for (const [folder, layout] of [
        [hub, 'hub'],
        [current, 'transformers'],
      ] as const) {
        const m = (await llava.fromPretrained(folder, {}, context)) as Llava;
        loaded.push(m);
        expect(m.loadReport?.layout).toBe(layout);
        const logits = m.forward({ inputIds: ids, pixelValues: pixels }).logits.arraySync() as number[][][];
        expect(Math.max(...logits.flat(2).map((v, i) => Math.abs(v - reference.flat(2)[i]!)))).toBeLessThan(1e-5);
      }
      expect(() => model.forward({ inputIds: tf.tensor2d([[1, 39, 39, 5]], undefined, 'int32'), pixelValues: pixels })).toThrow(
        /row 0 of inputIds has 2 image tokens \(id 39\)/,
      );
    } finally {
      model.dispose();
      loaded.forEach((m) => m.dispose());
    }
  });
});
