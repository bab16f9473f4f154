// CLIP's symmetric InfoNCE: mean of the image→text and text→image cross-entropies with the
// diagonal as targets (open_clip src/open_clip/loss.py ClipLoss). Hard negatives (NegCLIP,
// Yuksekgonul et al. 2023) are extra text columns: they enlarge the image→text softmax only, since
// a negative text has no matching image to pull toward.
import * as tf from '@tensorflow/tfjs-core';
import type { Batch, Loss, ModelOutputs } from '@mmft/core';
import type { ClipLossConfig } from './config';
import { lossVariable, pairLogits } from './similarity';

/** Mean over rows of −log softmax(logits)[row, row]: cross-entropy with arange targets. */
export function diagonalCrossEntropy(logits: tf.Tensor2D): tf.Scalar {
  return tf.tidy(() => {
    const [rows, cols] = logits.shape;
    const targets = tf.oneHot(tf.range(0, rows, 1, 'int32'), cols);
    return tf.neg(tf.mean(tf.sum(tf.mul(targets, tf.logSoftmax(logits, 1)), 1))) as tf.Scalar;
  });
}

/**
 * The "clip" loss. The temperature comes from `outputs.logitScale` (the model's HF `logit_scale`)
 * when the model gives one, else from the loss's own `logit_scale` parameter.
 *
 * @example
 * const loss = createClipLoss(clipLossConfigSchema.parse({}));
 * const value = loss.compute({ imageEmbeds, textEmbeds }, batch); // scalar
 */
export function createClipLoss(config: ClipLossConfig): Loss {
  const ownScale = lossVariable('logit_scale', config.init_logit_scale, config.learn_logit_scale);
  return {
    parameters: [['logit_scale', ownScale]],
    compute(outputs: ModelOutputs, _batch: Batch): tf.Scalar {
      return tf.tidy(() => {
        const { logitsPerImage, images } = pairLogits(
          outputs,
          { scale: outputs.logitScale ?? ownScale, maxScale: config.max_logit_scale, normalize: config.normalize },
          'clip',
        );
        const imageToText = diagonalCrossEntropy(logitsPerImage);
        // Text→image only over the positive texts (first B columns → rows of the transpose).
        const positives = tf.slice(logitsPerImage, [0, 0], [images, images]);
        const textToImage = diagonalCrossEntropy(tf.transpose(positives) as tf.Tensor2D);
        return tf.div(tf.add(imageToText, textToImage), 2) as tf.Scalar;
      });
    },
  };
}
