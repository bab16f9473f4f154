// Gradient checkpointing of GPT-2's blocks (model/gpt2-model.ts drives `transformer.h` through
// core's runBlocks, the mask as an extra): bit-equal gradients with GPT-2's default dropouts
// (attention, residual, embeddings: 0.1 each) active, tied and untied heads.
import '@tensorflow/tfjs-backend-cpu';
import * as tf from '@tensorflow/tfjs-core';
import { afterAll, beforeAll } from '@jest/globals';
import { describeGradientCheckpointing } from '@mmft/core/testing';
import { GPT2LMHeadModel } from './gpt2-lm-head-model';
import type { Gpt2LMHeadRoot } from './model/gpt2-model';

let inputIds: tf.Tensor;
let attentionMask: tf.Tensor;
beforeAll(async () => {
  await tf.setBackend('cpu');
  inputIds = tf.tensor2d(
    [
      [0, 0, 5, 9, 120, 7],
      [2, 30, 12, 5, 40, 8],
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

const config = { n_embd: 16, n_head: 4, n_layer: 3, vocab_size: 130, n_positions: 16, attn_pdrop: 0.3 };
const loss = (root: Gpt2LMHeadRoot) => tf.tidy(() => tf.sum(tf.square(root.forward({ inputIds, attentionMask }))));

describeGradientCheckpointing<Gpt2LMHeadRoot>('GPT2LMHeadModel', {
  build: () => GPT2LMHeadModel.fromConfig(config, { seed: 1 }).root.train(),
  loss,
  stacks: 1,
});

describeGradientCheckpointing<Gpt2LMHeadRoot>('GPT2LMHeadModel (untied head, every other block)', {
  build: () => GPT2LMHeadModel.fromConfig({ ...config, tie_word_embeddings: false }, { seed: 2 }).root.train(),
  setting: { everyNBlocks: 2 },
  loss,
  stacks: 1,
});
