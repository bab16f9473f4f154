// arch-clip joins core's architecture conformance kit (describeArchitecture), as every
// architecture plugin does.
import '@tensorflow/tfjs-backend-cpu';
import * as tf from '@tensorflow/tfjs-core';
import { describeArchitecture } from '@mmft/core/testing';
import { ClipModel } from './clip-model';
import { clipArchitecture } from './plugin';
import { createTinyClipCheckpoint } from './testing/tiny-checkpoint';

describeArchitecture(clipArchitecture, {
  writeCheckpoint: async (dir) => void (await createTinyClipCheckpoint(dir, { seed: 4 })),
  parameterNames: [
    'logit_scale',
    'text_model.embeddings.token_embedding.weight',
    'vision_model.embeddings.class_embedding',
    'visual_projection.weight',
    'text_projection.weight',
  ],
  towers: ['vision', 'text', 'head'],
  texts: ['a red circle', '蓝色 方形'],
  inputs: (model) => ({
    pixelValues: tf.randomNormal([2, 3, 8, 8], 0, 1, 'float32', 3),
    ...(model as ClipModel).tokenize(['a red circle', 'blue square']),
  }),
  peftTargets: ['q_proj', 'v_proj'],
});
