// The clip-vision provider (CLIPVisionModel) joins core's architecture conformance kit, as every
// architecture does.
import '@tensorflow/tfjs-backend-cpu';
import * as tf from '@tensorflow/tfjs-core';
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
