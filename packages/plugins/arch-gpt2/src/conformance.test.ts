// arch-gpt2 joins core's architecture conformance kit (describeArchitecture), as every
// architecture plugin does.
import '@tensorflow/tfjs-backend-cpu';
import * as tf from '@tensorflow/tfjs-core';
import { describeArchitecture } from '@mmft/core/testing';
import { gpt2Provider } from './plugin';
import { createTinyGpt2Checkpoint } from './testing/tiny-checkpoint';

describeArchitecture(gpt2Provider, {
  writeCheckpoint: async (dir) => void (await createTinyGpt2Checkpoint(dir, { seed: 4, legacyBuffers: true, padToken: '<|endoftext|>' })),
  parameterNames: [
    'transformer.wte.weight',
    'transformer.wpe.weight',
    'transformer.h.0.ln_1.weight',
    'transformer.h.0.attn.c_attn.weight',
    'transformer.h.1.attn.c_proj.bias',
    'transformer.h.1.mlp.c_fc.weight',
    'transformer.h.1.mlp.c_proj.weight',
    'transformer.ln_f.bias',
  ],
  towers: ['language'],
  texts: ['a red circle', 'how many stars are there?', '红色的圆'],
  inputs: () => ({
    inputIds: tf.tensor2d(
      [
        [1, 2, 3],
        [4, 5, 6],
      ],
      undefined,
      'int32',
    ),
    labels: tf.tensor2d(
      [
        [1, 2, 3],
        [4, -100, 6],
      ],
      undefined,
      'int32',
    ),
  }),
  peftTargets: ['c_attn', 'c_proj', 'c_fc'],
});
