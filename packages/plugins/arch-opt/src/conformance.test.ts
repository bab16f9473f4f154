// arch-opt joins core's architecture conformance kit (describeArchitecture), as every architecture
// plugin does.
import '@tensorflow/tfjs-backend-cpu';
import * as tf from '@tensorflow/tfjs-core';
import { describeArchitecture } from '@mmft/core/testing';
import { optProvider } from './plugin';
import { createTinyOptCheckpoint } from './testing/tiny-checkpoint';

describeArchitecture(optProvider, {
  writeCheckpoint: async (dir) => void (await createTinyOptCheckpoint(dir, { seed: 21, word_embed_proj_dim: 8 })),
  parameterNames: [
    'model.decoder.embed_tokens.weight',
    'model.decoder.embed_positions.weight',
    'model.decoder.project_in.weight',
    'model.decoder.project_out.weight',
    'model.decoder.final_layer_norm.weight',
    'model.decoder.layers.0.self_attn.q_proj.weight',
    'model.decoder.layers.1.self_attn.out_proj.bias',
    'model.decoder.layers.1.fc2.weight',
  ],
  towers: ['language'],
  texts: ['a red circle', 'what color is the square?'],
  inputs: (model) => {
    const { inputIds, attentionMask } = model.processor.tokenizer!.encode(['a red circle', 'blue square left of it'], {
      padding: 'longest',
    });
    return { inputIds: tf.tensor2d(inputIds, undefined, 'int32'), attentionMask: tf.tensor2d(attentionMask, undefined, 'int32') };
  },
  peftTargets: ['q_proj', 'k_proj', 'v_proj', 'out_proj', 'fc1', 'fc2'],
});
