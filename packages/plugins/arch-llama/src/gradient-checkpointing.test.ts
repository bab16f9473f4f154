// Gradient checkpointing of the Llama decoder (model/llama-model.ts drives its layers through core's
// runBlocks, mask and rotary tables as extras): bit-equal gradients with attention dropout active,
// with a left-padded row and tied embeddings, and only the hidden-state path checkpointed.
import '@tensorflow/tfjs-backend-cpu';
import * as tf from '@tensorflow/tfjs-core';
import { afterAll, beforeAll } from '@jest/globals';
import { describeGradientCheckpointing } from '@mmft/core/testing';
import { LlamaForCausalLM } from './llama-for-causal-lm';
import type { LlamaForCausalLMRoot } from './model/llama-model';
import { TINY_LLAMA_CONFIG } from './testing/tiny-checkpoint';

let inputIds: tf.Tensor;
let attentionMask: tf.Tensor;
beforeAll(async () => {
  await tf.setBackend('cpu');
  inputIds = tf.tensor2d(
    [
      [0, 0, 4, 9, 2, 7],
      [3, 3, 12, 5, 1, 8],
    ],
    undefined,
    'int32',
  );
  attentionMask = tf.tensor2d(
    [
      [0, 0, 1, 1, 1, 1],
      [1, 1, 1, 1, 1, 1],
    ],
    undefined,
    'int32',
  );
});
afterAll(() => tf.dispose([inputIds, attentionMask]));

const config = { ...TINY_LLAMA_CONFIG, vocab_size: 13, num_hidden_layers: 3, attention_dropout: 0.25 };

describeGradientCheckpointing<LlamaForCausalLMRoot>('LlamaForCausalLM', {
  build: () => LlamaForCausalLM.fromConfig(config, { seed: 3 }).root.train(),
  loss: (root) => tf.tidy(() => tf.sum(tf.square(root.forward({ inputIds, attentionMask })))),
  stacks: 1,
});

describeGradientCheckpointing<LlamaForCausalLMRoot>('LlamaForCausalLM (tied embeddings, layers 0 frozen)', {
  build: () => LlamaForCausalLM.fromConfig({ ...config, tie_word_embeddings: true }, { seed: 4 }).root.train(),
  loss: (root) => tf.tidy(() => tf.sum(tf.square(root.forward({ inputIds, attentionMask })))),
  stacks: 1,
  freeze: 'model.layers.0.**',
});
