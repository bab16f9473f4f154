// Gradient checkpointing through LLaVA over the real towers (@mmft/arch-clip's CLIP vision read at
// layer −2, @mmft/arch-llama's decoder), built through the CLI's registry: both block stacks are
// found through the composed model, and gradients equal the plain backward with dropout active.
import 'reflect-metadata';
import { afterAll, beforeAll } from '@jest/globals';
import * as tf from '@tensorflow/tfjs-core';
import { createCliContext } from '@mmft/cli';
import { architectureContext, type VisionLanguageModel } from '@mmft/core';
import { describeGradientCheckpointing } from '@mmft/core/testing';

const CONFIG = {
  vision_config: {
    model_type: 'clip_vision_model',
    hidden_size: 8,
    intermediate_size: 16,
    num_hidden_layers: 3,
    num_attention_heads: 2,
    image_size: 8,
    patch_size: 4,
    attention_dropout: 0.2,
  },
  text_config: {
    model_type: 'llama',
    vocab_size: 40,
    hidden_size: 16,
    intermediate_size: 32,
    num_hidden_layers: 2,
    num_attention_heads: 4,
    num_key_value_heads: 2,
    max_position_embeddings: 64,
    attention_dropout: 0.2,
  },
  image_token_index: 39,
};

let build: () => Promise<VisionLanguageModel>;
let inputIds: tf.Tensor;
let pixelValues: tf.Tensor;
beforeAll(async () => {
  const registry = await createCliContext({ isTTY: false }).createRegistry();
  const backend = registry.resolve('backend', 'tfjs');
  await backend.select(backend.configSchema.parse({ prefer: ['cpu'] }));
  const context = architectureContext(registry);
  const llava = registry.resolveModelType('llava');
  build = async () => {
    const model = (await llava.fromConfig(llava.configSchema.parse({ config: CONFIG, seed: 2 }), context)) as VisionLanguageModel;
    model.root.train();
    return model;
  };
  inputIds = tf.tensor2d([[1, 39, 39, 39, 39, 5, 7, 9]], undefined, 'int32'); // 4 image tokens: (8/4)² patches
  pixelValues = tf.randomUniform([1, 3, 8, 8], -1, 1, 'float32', 3);
});
afterAll(() => tf.dispose([inputIds, pixelValues]));

const loss = (model: VisionLanguageModel) => tf.tidy(() => tf.sum(tf.square(model.forward({ inputIds, pixelValues }).logits)));

describeGradientCheckpointing<VisionLanguageModel>('LLaVA (CLIP vision + Llama)', {
  build: () => build(),
  rootOf: (model) => model.root,
  loss,
  stacks: 2,
});

describeGradientCheckpointing<VisionLanguageModel>('LLaVA stage 2 (vision tower frozen)', {
  build: () => build(),
  rootOf: (model) => model.root,
  loss,
  stacks: 2,
  freeze: 'vision_tower.**',
});
