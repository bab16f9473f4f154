// Gradient checkpointing of the OPT decoder (model/decoder.ts drives its layers through core's
// runBlocks, the mask as an extra): bit-equal gradients with residual and attention dropout active,
// for the pre-norm layout and for OPT-350m's post-norm layout with project_in / project_out.
import '@tensorflow/tfjs-backend-cpu';
import * as tf from '@tensorflow/tfjs-core';
import { afterAll, beforeAll } from '@jest/globals';
import { describeGradientCheckpointing } from '@mmft/core/testing';
import type { OptForCausalLMRoot } from './model/opt-root';
import { OPTForCausalLM } from './opt-model';

const shapes = {
  vocab_size: 48,
  hidden_size: 16,
  num_hidden_layers: 3,
  num_attention_heads: 4,
  ffn_dim: 32,
  max_position_embeddings: 20,
  do_layer_norm_before: true,
  word_embed_proj_dim: 16,
  enable_bias: true,
  layer_norm_elementwise_affine: true,
  tie_word_embeddings: true,
  dropout: 0.2,
  attention_dropout: 0.2,
};

let inputIds: tf.Tensor;
let attentionMask: tf.Tensor;
beforeAll(async () => {
  await tf.setBackend('cpu');
  inputIds = tf.tensor2d(
    [
      [1, 1, 5, 9, 12, 7],
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

const loss = (root: OptForCausalLMRoot) => tf.tidy(() => tf.sum(tf.square(root.forward({ inputIds, attentionMask }))));

describeGradientCheckpointing<OptForCausalLMRoot>('OPTForCausalLM (pre-norm)', {
  build: () => OPTForCausalLM.fromConfig(shapes, { seed: 3 }).root.train(),
  loss,
  stacks: 1,
});

describeGradientCheckpointing<OptForCausalLMRoot>('OPTForCausalLM (post-norm, project_in/out)', {
  build: () => OPTForCausalLM.fromConfig({ ...shapes, do_layer_norm_before: false, word_embed_proj_dim: 8 }, { seed: 4 }).root.train(),
  loss,
  stacks: 1,
});
