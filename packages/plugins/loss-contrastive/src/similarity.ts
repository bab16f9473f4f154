// Turns a dual encoder's outputs into the [images × texts] logit matrix both losses share. Reads
// `imageEmbeds`/`textEmbeds` (+ optional `logitScale`/`logitBias`, log-space as HF's CLIPModel
// `logit_scale` parameter) or, failing those, precomputed `logitsPerImage` (HF CLIPModel.forward).
import * as tf from '@tensorflow/tfjs-core';
import { MmftError, type ModelOutputs } from '@mmft/core';

/** Logits of every image against every text, with how many texts are the images' positives. */
export interface PairLogits {
  /** [B, C]: row i = image i, column j = text j; columns ≥ B are hard negatives. */
  readonly logitsPerImage: tf.Tensor2D;
  readonly images: number;
  readonly texts: number;
}

const shape = (t: tf.Tensor | undefined): string => (t ? `[${t.shape.join(', ')}]` : 'absent');

function l2normalize(x: tf.Tensor2D): tf.Tensor2D {
  // Same epsilon idea as torch.nn.functional.normalize (eps=1e-12 on the norm).
  return tf.div(x, tf.maximum(tf.norm(x, 'euclidean', 1, true), 1e-12));
}

/**
 * Scaled cosine similarities `exp(min(s, max)) · I·Tᵀ (+ bias)`; call inside `tf.tidy`.
 * `scale` is log-space; the clamp lives here so the effective scale never exceeds `maxScale`.
 *
 * @example
 * const { logitsPerImage } = pairLogits(outputs, { scale: loss.logitScale, maxScale: Math.log(100), normalize: true }, 'clip');
 */
export function pairLogits(
  outputs: ModelOutputs,
  options: { scale: tf.Tensor; bias?: tf.Tensor; maxScale: number; normalize: boolean },
  lossId: string,
): PairLogits {
  const image = outputs.imageEmbeds;
  const text = outputs.textEmbeds;
  if (image && text) {
    if (image.rank !== 2 || text.rank !== 2 || image.shape[1] !== text.shape[1]) {
      throw new MmftError(
        'E_SHAPE',
        `loss "${lossId}": imageEmbeds ${shape(image)} and textEmbeds ${shape(text)} must be [B, D] and [C, D] with one D`,
      );
    }
    const [b, c] = [image.shape[0]!, text.shape[0]!];
    if (c < b) {
      throw new MmftError(
        'E_SHAPE',
        `loss "${lossId}": ${c} texts for ${b} images; each image needs its positive text in the first B rows (extra rows are hard negatives)`,
      );
    }
    const img = options.normalize ? l2normalize(image as tf.Tensor2D) : (image as tf.Tensor2D);
    const txt = options.normalize ? l2normalize(text as tf.Tensor2D) : (text as tf.Tensor2D);
    const scale = tf.exp(tf.minimum(tf.reshape(options.scale, []), options.maxScale));
    let logits = tf.mul(tf.matMul(img, txt, false, true), scale) as tf.Tensor2D;
    if (options.bias) logits = tf.add(logits, tf.reshape(options.bias, [])) as tf.Tensor2D;
    return { logitsPerImage: logits, images: b, texts: c };
  }
  const logits = outputs.logitsPerImage;
  if (logits && logits.rank === 2 && logits.shape[1]! >= logits.shape[0]!) {
    // Precomputed logits carry the model's own (unclamped) scale; only the bias can be added here.
    const withBias = options.bias ? (tf.add(logits, tf.reshape(options.bias, [])) as tf.Tensor2D) : (logits as tf.Tensor2D);
    return { logitsPerImage: withBias, images: logits.shape[0]!, texts: logits.shape[1]! };
  }
  throw new MmftError(
    'E_SHAPE',
    `loss "${lossId}" needs outputs.imageEmbeds + outputs.textEmbeds ([B, D], [C, D]) or outputs.logitsPerImage [B, C ≥ B]; ` +
      `got ${
        Object.keys(outputs)
          .map((k) => `${k} ${shape(outputs[k])}`)
          .join(', ') || 'no outputs'
      }`,
    { hint: 'use a dual-encoder architecture (family "dual-encoder"), e.g. model.type: clip' },
  );
}

let counter = 0;

/** A scalar variable owned by a loss (temperature, bias), named uniquely for tfjs. */
export function lossVariable(name: string, value: number, trainable: boolean): tf.Variable {
  counter += 1;
  const initial = tf.scalar(value);
  try {
    return tf.variable(initial, trainable, `mmft/loss/${name}/${counter}-${Math.random().toString(36).slice(2, 8)}`);
  } finally {
    initial.dispose(); // the variable keeps its own reference to the data
  }
}
