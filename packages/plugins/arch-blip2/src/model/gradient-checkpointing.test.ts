// Gradient checkpointing of BLIP-2's vision encoder and Q-Former (model/vision.ts, model/qformer.ts
// drive their layers through core's runBlocks; the image features reach the Q-Former layers as
// extras): bit-equal gradients with dropout active, image-only (the text feed-forward, unused, gets
// no gradient in either run) and with text tokens after the queries (LAVIS stage 1's layout). The
// vision side's gradients are equal up to rounding only: see `rounding` below.
import '@tensorflow/tfjs-backend-cpu';
import * as tf from '@tensorflow/tfjs-core';
import { afterAll, beforeAll } from '@jest/globals';
import { Module, normal } from '@mmft/core/nn';
import { describeGradientCheckpointing } from '@mmft/core/testing';
import { parseBlip2Config } from '../checkpoint/parse-config';
import { TINY_BLIP2_CONFIG } from '../testing';
import type { Blip2Config } from '../config';
import { Blip2QFormerModel } from './qformer';
import { Blip2VisionModel } from './vision';

/** The vision → Q-Former half of Blip2ForConditionalGeneration, under its parameter names. */
class VisionQFormer extends Module<[tf.Tensor, tf.Tensor | undefined], tf.Tensor> {
  constructor(readonly config: Blip2Config) {
    super();
    this.registerModule('vision_model', new Blip2VisionModel(config.vision_config, 1));
    this.createParameter('query_tokens', [1, config.num_query_tokens, config.qformer_config.hidden_size], normal(0, 0.5), { seed: 2 });
    this.registerModule('qformer', new Blip2QFormerModel(config.qformer_config, 3));
  }

  forward(pixels: tf.Tensor, text: tf.Tensor | undefined): tf.Tensor {
    return tf.tidy(() => {
      const image = this.child<Blip2VisionModel>('vision_model').forward(pixels).lastHiddenState;
      const queries = tf.tile(this.param('query_tokens'), [pixels.shape[0]!, 1, 1]);
      const queryEmbeds = text ? tf.concat([queries, text], 1) : queries;
      return this.child<Blip2QFormerModel>('qformer').forward({
        queryEmbeds,
        queryLength: this.config.num_query_tokens,
        encoderHiddenStates: image,
      });
    });
  }
}

const config = (textInput: boolean) =>
  parseBlip2Config({
    ...TINY_BLIP2_CONFIG,
    vision_config: { ...TINY_BLIP2_CONFIG.vision_config, attention_dropout: 0.2 },
    qformer_config: {
      ...TINY_BLIP2_CONFIG.qformer_config,
      hidden_dropout_prob: 0.2,
      attention_probs_dropout_prob: 0.2,
      use_qformer_text_input: textInput,
    },
    text_config: { model_type: 'tiny-lm', hidden_size: 8 },
  });

let pixels: tf.Tensor;
let text: tf.Tensor;
beforeAll(async () => {
  await tf.setBackend('cpu');
  pixels = tf.randomNormal([2, 3, 8, 8], 0, 1, 'float32', 7);
  text = tf.randomNormal([2, 3, 12], 0, 1, 'float32', 8);
});
afterAll(() => tf.dispose([pixels, text]));

describeGradientCheckpointing<VisionQFormer>('BLIP-2 vision encoder + Q-Former', {
  build: () => new VisionQFormer(config(false)).train(),
  loss: (root) => tf.tidy(() => tf.sum(tf.square(root.forward(pixels, undefined)))),
  stacks: 2,
  rounding: {
    params: /^vision_model\./,
    relative: 1e-5,
    why: 'the image features feed cross-attention layers 0 and 2: their gradient is summed per checkpointed layer first',
  },
});

describeGradientCheckpointing<VisionQFormer>('BLIP-2 Q-Former with text tokens, vision frozen', {
  build: () => new VisionQFormer(config(true)).train(),
  loss: (root) => tf.tidy(() => tf.sum(tf.square(root.forward(pixels, text)))),
  stacks: 2,
  freeze: 'vision_model.**',
});
