// CLIP's patch embedding, nn.Conv2d(C, D, kernel_size=p, stride=p, bias=False) in
// transformers/models/clip/modeling_clip.py (CLIPVisionEmbeddings), computed as "cut the image
// into p×p patches, then one matmul". With kernel = stride and no padding the two are the same
// sum; the matmul form trains in Node, where tfjs-core's CommonJS bundle cannot load the Conv2D
// gradient (its conv2DBackpropFilter op is not exported), and is one GEMM on every backend.
import * as tf from '@tensorflow/tfjs-core';
import { assertThat } from '@mmft/core';
import { fanInUniform, Module } from '@mmft/core/nn';

/**
 * Holds `weight` [D, C, p, p] exactly as the HF checkpoint stores the conv kernel; maps pixels
 * [B, C, H, W] to patch tokens [B, (H/p)·(W/p), D] in row-major patch order (flatten(2).transpose(1, 2)).
 *
 * @example
 * const patches = new PatchEmbedding(3, 768, 32);
 * patches.forward(tf.zeros([1, 3, 224, 224])).shape; // [1, 49, 768]
 */
export class PatchEmbedding extends Module<[tf.Tensor], tf.Tensor> {
  constructor(
    readonly inChannels: number,
    readonly outChannels: number,
    readonly patchSize: number,
    options: { seed?: number } = {},
  ) {
    super();
    // PyTorch's Conv2d default init (fan-in uniform); a fresh CLIP re-initialises it (init-weights.ts).
    this.createParameter('weight', [outChannels, inChannels, patchSize, patchSize], fanInUniform(inChannels * patchSize * patchSize), {
      seed: options.seed,
    });
  }

  forward(pixels: tf.Tensor): tf.Tensor {
    const { inChannels: c, outChannels: d, patchSize: p } = this;
    assertThat(
      pixels.rank === 4 && pixels.shape[1] === c,
      'E_SHAPE',
      () => `patch embedding needs pixels [B, ${c}, H, W], got [${pixels.shape.join(', ')}]`,
    );
    const [batch, , height, width] = pixels.shape as [number, number, number, number];
    const [gh, gw] = [Math.floor(height / p), Math.floor(width / p)];
    return tf.tidy(() => {
      // A strided conv ignores rows/columns that do not fill a whole patch; so do we.
      const cropped = gh * p === height && gw * p === width ? pixels : tf.slice(pixels, [0, 0, 0, 0], [batch, c, gh * p, gw * p]);
      const nhwc = tf.transpose(cropped, [0, 2, 3, 1]); // [B, H, W, C]
      // Rank-4 steps only (some backends transpose at most rank 4): rows of patches, then patches.
      const rows = tf.reshape(nhwc, [batch * gh, p, gw, p * c]);
      const patches = tf.reshape(tf.transpose(rows, [0, 2, 1, 3]), [batch * gh * gw, p * p * c]); // (i, j, c) order
      const kernel = tf.reshape(tf.transpose(this.param('weight'), [0, 2, 3, 1]), [d, p * p * c]); // same order
      return tf.reshape(tf.matMul(patches, kernel, false, true), [batch, gh * gw, d]);
    });
  }
}
