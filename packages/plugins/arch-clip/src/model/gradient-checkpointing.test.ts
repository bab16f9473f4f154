// Gradient checkpointing of both CLIP towers (model/encoder.ts drives its layers through core's
// runBlocks): bit-equal gradients with attention dropout active, for CLIPModel and for the vision
// tower read at an inner layer as LLaVA reads it (clip-vision-root.ts hiddenStates).
import '@tensorflow/tfjs-backend-cpu';
import * as tf from '@tensorflow/tfjs-core';
import { afterAll, beforeAll } from '@jest/globals';
import { describeGradientCheckpointing } from '@mmft/core/testing';
import { ClipModel } from '../clip-model';
import { ClipVisionModel } from '../clip-vision-model';
import type { ClipRoot } from './clip-root';
import type { ClipVisionRoot } from './clip-vision-root';

const vision = {
  hidden_size: 6,
  intermediate_size: 10,
  num_hidden_layers: 3,
  num_attention_heads: 3,
  image_size: 6,
  patch_size: 3,
  attention_dropout: 0.3,
};
const text = {
  vocab_size: 12,
  hidden_size: 8,
  intermediate_size: 12,
  num_hidden_layers: 2,
  num_attention_heads: 2,
  max_position_embeddings: 7,
  bos_token_id: 10,
  eos_token_id: 11,
  pad_token_id: 11,
  attention_dropout: 0.3,
};

let pixels: tf.Tensor;
let ids: tf.Tensor;
let mask: tf.Tensor;
beforeAll(async () => {
  await tf.setBackend('cpu');
  pixels = tf.randomNormal([2, 3, 6, 6], 0, 1, 'float32', 9);
  ids = tf.tensor2d(
    [
      [10, 3, 4, 5, 11, 11, 11],
      [10, 9, 8, 7, 6, 2, 11],
    ],
    undefined,
    'int32',
  );
  mask = tf.tensor2d(
    [
      [1, 1, 1, 1, 1, 0, 0],
      [1, 1, 1, 1, 1, 1, 1],
    ],
    undefined,
    'int32',
  );
});
afterAll(() => tf.dispose([pixels, ids, mask]));

describeGradientCheckpointing<ClipRoot>('CLIPModel (text and vision encoders)', {
  build: () => ClipModel.fromConfig({ projection_dim: 3, text_config: text, vision_config: vision }, { seed: 5 }).root.train(),
  loss: (root) =>
    tf.tidy(() => tf.sum(tf.square(root.forward({ pixelValues: pixels, inputIds: ids, attentionMask: mask }).logitsPerText!))),
  stacks: 2,
});

describeGradientCheckpointing<ClipVisionRoot>('CLIPVisionModel read at layer -2', {
  build: () => ClipVisionModel.fromConfig(vision, { seed: 6 }).root.train(),
  loss: (root) => tf.tidy(() => tf.sum(tf.square(root.hiddenStates(pixels, [-2])[0]!))),
  stacks: 1,
  freeze: 'vision_model.embeddings.**',
});
