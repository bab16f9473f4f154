// arch-llama joins core's architecture conformance kit (describeArchitecture), as every architecture
// plugin does: bit-exact save/load, HF parameter names, towers covering every parameter once, PEFT targets.
import '@tensorflow/tfjs-backend-cpu';
import * as tf from '@tensorflow/tfjs-core';
import { describeArchitecture } from '@mmft/core/testing';
import { llamaProvider } from './plugin';
import { createTinyLlamaCheckpoint } from './testing/tiny-checkpoint';

const inputs = () => ({
  inputIds: tf.tensor2d(
    [
      [1, 40, 41, 42],
      [1, 43, 44, 45],
    ],
    undefined,
    'int32',
  ),
  attentionMask: tf.tensor2d(
    [
      [1, 1, 1, 1],
      [0, 1, 1, 1],
    ],
    undefined,
    'int32',
  ),
});

describeArchitecture(llamaProvider, {
  writeCheckpoint: async (dir) =>
    void (await createTinyLlamaCheckpoint(dir, { seed: 4, tokenizer: { padToken: '<unk>', paddingSide: 'left' } })),
  parameterNames: [
    'model.embed_tokens.weight',
    'model.layers.0.self_attn.q_proj.weight',
    'model.layers.1.mlp.gate_proj.weight',
    'model.layers.1.post_attention_layernorm.weight',
    'model.norm.weight',
    'lm_head.weight',
  ],
  towers: ['language', 'head'],
  texts: ['a red circle', 'how many stars are there?', '红色的圆'],
  inputs,
  peftTargets: ['q_proj', 'k_proj', 'v_proj', 'o_proj', 'gate_proj', 'up_proj', 'down_proj'],
});

describeArchitecture(llamaProvider, {
  writeCheckpoint: async (dir) => void (await createTinyLlamaCheckpoint(dir, { seed: 5, config: { tie_word_embeddings: true } })),
  parameterNames: ['model.embed_tokens.weight', 'model.layers.1.self_attn.v_proj.weight'],
  towers: ['language'],
  inputs,
});
