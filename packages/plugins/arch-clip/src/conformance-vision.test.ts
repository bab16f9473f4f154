// The clip-vision provider (CLIPVisionModel) joins core's architecture conformance kit, as every
// architecture does.
import '@tensorflow/tfjs-backend-cpu';
import * as tf from '@tensorflow/tfjs-core';
import { describe, expect, test } from '@jest/globals';
import { isVisionEncoderModel, type VisionEncoderModel } from '@mmft/core';
import { describeArchitecture } from '@mmft/core/testing';
import { clipVisionArchitecture } from './plugin';
import { createTinyClipVisionCheckpoint } from './testing/tiny-checkpoint';

describeArchitecture(clipVisionArchitecture, {
  writeCheckpoint: async (dir) => void (await createTinyClipVisionCheckpoint(dir, { seed: 4 })),
  parameterNames: [
    'vision_model.embeddings.class_embedding',
    'vision_model.embeddings.patch_embedding.weight',
    'vision_model.pre_layrnorm.weight',
    'vision_model.encoder.layers.1.self_attn.q_proj.weight',
    'vision_model.post_layernorm.bias',
  ],
  towers: ['vision'],
  inputs: () => ({ pixelValues: tf.randomNormal([2, 3, 8, 8], 0, 1, 'float32', 3) }),
  peftTargets: ['q_proj', 'v_proj', 'fc1'],
});

describe('clip-vision as a vision encoder', () => {
  test('the provider builds a VisionEncoderModel with one hidden state per layer plus the embeddings', async () => {
    await tf.setBackend('cpu');
    const config = { hidden_size: 8, intermediate_size: 16, num_hidden_layers: 2, num_attention_heads: 2, image_size: 8, patch_size: 4 };
    const model = await clipVisionArchitecture.fromConfig({ config, seed: 1 } as never);
    try {
      expect(isVisionEncoderModel(model)).toBe(true);
      const px = tf.randomNormal([1, 3, 8, 8], 0, 1, 'float32', 5);
      const states = (model as VisionEncoderModel).hiddenStates(px);
      // (8 / 4)² patches + the class token, 2 layers + the embedding output
      expect(states.map((s) => s.shape)).toEqual([
        [1, 5, 8],
        [1, 5, 8],
        [1, 5, 8],
      ]);
      tf.dispose([px, ...states]);
    } finally {
      model.dispose();
    }
  });
});
