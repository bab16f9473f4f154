// SigLIP's pairwise sigmoid loss: every (image, text) pair is a binary problem, +1 on the
// diagonal and −1 elsewhere, summed and divided by the number of images (open_clip
// src/open_clip/loss.py SigLipLoss._loss; SigLIP paper arXiv:2303.15343, Algorithm 1).
// Hard-negative texts are extra columns labelled −1.
import * as tf from '@tensorflow/tfjs-core';
import type { Batch, Loss, ModelOutputs } from '@mmft/core';
import type { SiglipLossConfig } from './config';
import { lossVariable, pairLogits } from './similarity';

/**
 * log σ(x) = min(x, 0) − log(1 + e^−|x|): stable for large |x| and built from ops with plain
 * gradients (tf.logSigmoid's customGrad loses its saved input inside nested tidies in tfjs 4.22).
 */
function logSigmoid(x: tf.Tensor): tf.Tensor {
  return tf.sub(tf.minimum(x, 0), tf.log1p(tf.exp(tf.neg(tf.abs(x)))));
}

/** −Σ log σ(z ⊙ logits) / B with z = +1 at (i, i), i < B, and −1 elsewhere. */
export function sigmoidPairLoss(logits: tf.Tensor2D, images: number): tf.Scalar {
  return tf.tidy(() => {
    const [rows, cols] = logits.shape;
    const eye = tf.oneHot(tf.range(0, rows, 1, 'int32'), cols); // [B, C], ones at (i, i)
    const labels = tf.sub(tf.mul(eye, 2), 1);
    return tf.div(tf.neg(tf.sum(logSigmoid(tf.mul(labels, logits)))), images) as tf.Scalar;
  });
}

/**
 * The "siglip" loss with learnable temperature t' and bias b (taken from `outputs.logitScale` /
 * `outputs.logitBias` when the model has them, as HF SiglipModel does).
 *
 * @example
 * const loss = createSiglipLoss(siglipLossConfigSchema.parse({}));
 * loss.parameters; // [['logit_scale', t'], ['logit_bias', b]]
 */
export function createSiglipLoss(config: SiglipLossConfig): Loss {
  const ownScale = lossVariable('logit_scale', config.init_logit_scale, config.learn_logit_scale);
  const ownBias = lossVariable('logit_bias', config.init_logit_bias, config.learn_logit_bias);
  return {
    parameters: [
      ['logit_scale', ownScale],
      ['logit_bias', ownBias],
    ],
    compute(outputs: ModelOutputs, _batch: Batch): tf.Scalar {
      return tf.tidy(() => {
        const bias = outputs.logitBias ?? ownBias;
        const { logitsPerImage, images } = pairLogits(
          outputs,
          { scale: outputs.logitScale ?? ownScale, bias, maxScale: config.max_logit_scale, normalize: config.normalize },
          'siglip',
        );
        return sigmoidPairLoss(logitsPerImage, images);
      });
    },
  };
}
