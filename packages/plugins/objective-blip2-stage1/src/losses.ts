// The three stage-1 losses of BLIP-2 over core's QueryTransformerModel, as LAVIS computes them in
// lavis/models/blip2_models/blip2_qformer.py (Blip2Qformer.forward) on one device:
// - ITC: similarity = max over the query features of (query feature · text feature), divided by the
//   learnable temperature; cross-entropy with label smoothing both ways, averaged;
// - ITM: per text one negative image and per image one negative text, drawn from the softmax of the
//   (temperature-scaled) similarities with the positive excluded; 3B pairs texts [pos, pos, neg]
//   with images [pos, neg, pos], labels [1]*B + [0]*2B, plain cross-entropy;
// - ITG: the first token replaced by the decoder start token, next-token cross-entropy with label
//   smoothing over the real tokens (lavis/models/blip2_models/Qformer.py, BertLMHeadModel.forward).
import * as tf from '@tensorflow/tfjs-core';
import { MmftError, type QueryTransformerModel } from '@mmft/core';
import { deriveSeed, SeededRng } from '@mmft/image';

/** Seed streams of the two hard-negative draws (kept apart from image augmentation and caption choice). */
export const NEGATIVE_IMAGE_STREAM = 0x17e6a1;
export const NEGATIVE_TEXT_STREAM = 0x7e47a1;

export interface LossWeights {
  readonly itc: number;
  readonly itm: number;
  readonly itg: number;
}

export interface Stage1Settings {
  readonly labelSmoothing: number;
  readonly weights: LossWeights;
}

/** A collated stage-1 batch and where it sits in training (the negatives are drawn by seed, epoch and position). */
export interface Stage1Inputs {
  /** [B, 3, S, S] */
  readonly pixelValues: tf.Tensor;
  /** [B, T] int32, the tokenizer's ids (first token [CLS] for a BERT tokenizer). */
  readonly inputIds: tf.Tensor;
  /** [B, T] int32 */
  readonly attentionMask: tf.Tensor;
  readonly seed: number;
  readonly epoch: number;
  readonly positions: readonly number[];
}

/** The weighted total and the unweighted parts that went into it (a part with weight 0 is not computed). */
export interface Stage1Losses {
  readonly total: tf.Scalar;
  readonly itc?: tf.Scalar;
  readonly itm?: tf.Scalar;
  readonly itg?: tf.Scalar;
}

/**
 * torch's F.cross_entropy(logits, targets, label_smoothing=ε) per row: (1 − ε)·(−log p[target]) +
 * ε·mean over classes of (−log p). Rows whose `valid` is 0 give 0.
 */
export function smoothedCrossEntropyRows(logits: tf.Tensor2D, targets: tf.Tensor1D, epsilon: number, valid?: tf.Tensor1D): tf.Tensor1D {
  return tf.tidy(() => {
    const logProbs = tf.logSoftmax(logits);
    const picked = tf.sum(tf.mul(logProbs, tf.oneHot(tf.cast(targets, 'int32'), logits.shape[1])), -1);
    const rows = tf.add(tf.mul(-(1 - epsilon), picked), tf.mul(-epsilon, tf.mean(logProbs, -1)));
    return (valid ? tf.mul(rows, tf.cast(valid, 'float32')) : rows) as tf.Tensor1D;
  });
}

/** Similarities [B images, B texts]: for each pair the max over the image's query features of the dot product. */
export function querySimilarities(imageFeats: tf.Tensor, textFeats: tf.Tensor): tf.Tensor2D {
  return tf.tidy(() => {
    const [b, q, e] = imageFeats.shape as [number, number, number];
    const perQuery = tf.matMul(tf.reshape(imageFeats, [b * q, e]), textFeats as tf.Tensor2D, false, true);
    return tf.max(tf.reshape(perQuery, [b, q, textFeats.shape[0]!]), 1) as tf.Tensor2D;
  });
}

/**
 * For each row of `scores` (row-major [n × n], row = anchor), a column ≠ the row drawn from the
 * softmax of the row with the diagonal excluded (LAVIS sets it to −10000 before the softmax, so it
 * gets probability 0): torch.multinomial(weights[b], 1) with a seeded uniform per row, `seedOf(row)`.
 *
 * @example
 * drawNegatives(Float32Array.from([5, 1, 0, 1, 5, 9, 2, 3, 5]), 3, (row) => 7 + row); // e.g. [1, 2, 1]
 */
export function drawNegatives(scores: ArrayLike<number>, n: number, seedOf: (row: number) => number): number[] {
  if (n < 2) throw new MmftError('E_DATA', `hard negatives need at least 2 examples in a batch, got ${n}`);
  return Array.from({ length: n }, (_, row) => {
    let top = -Infinity;
    for (let j = 0; j < n; j++) if (j !== row) top = Math.max(top, scores[row * n + j]!);
    const weights = Array.from({ length: n }, (_, j) => (j === row ? 0 : Math.exp(scores[row * n + j]! - top)));
    const total = weights.reduce((a, w) => a + w, 0);
    if (!Number.isFinite(total) || !(total > 0)) {
      throw new MmftError('E_NUMERIC', `the image-text similarities of row ${row} are not finite (${Array.from(weights).join(', ')})`, {
        hint: 'lower the learning rate; the contrastive temperature or the query features have diverged',
      });
    }
    // Mixed once more: the generator's first output follows a raw seed closely, and callers may pass counters.
    const u = new SeededRng(deriveSeed(seedOf(row), row)).float() * total;
    let cumulative = 0;
    let last = -1;
    for (let j = 0; j < n; j++) {
      if (weights[j] === 0) continue;
      cumulative += weights[j]!;
      last = j;
      if (u < cumulative) return j;
    }
    return last; // rounding left u at the very end of the last column with weight
  });
}

/** ids with their first column set to `startId`, for the decoder (LAVIS: [CLS] → [DEC]). */
export function decoderInputIds(inputIds: tf.Tensor, startId: number): tf.Tensor2D {
  return tf.tidy(() => {
    const [b, t] = inputIds.shape as [number, number];
    const start = tf.fill([b, 1], startId, 'int32');
    return (t > 1 ? tf.concat([start, tf.slice(inputIds, [0, 1], [b, t - 1])], 1) : start) as tf.Tensor2D;
  });
}

/** Image-text contrastive loss from the [images × texts] similarities (before the temperature). */
export function contrastiveLoss(sims: tf.Tensor2D, temperature: tf.Tensor, epsilon: number): tf.Scalar {
  return tf.tidy(() => {
    const b = sims.shape[0];
    const targets = tf.range(0, b, 1, 'int32') as tf.Tensor1D;
    const i2t = tf.div(sims, temperature) as tf.Tensor2D;
    const t2i = tf.transpose(i2t) as tf.Tensor2D;
    const lossI2t = tf.mean(smoothedCrossEntropyRows(i2t, targets, epsilon));
    const lossT2i = tf.mean(smoothedCrossEntropyRows(t2i, targets, epsilon));
    return tf.div(tf.add(lossI2t, lossT2i), 2) as tf.Scalar;
  });
}

/** Negative image per text and negative text per image, by (seed, epoch, position) of each row. */
export function hardNegatives(
  scaledSims: Float32Array | Float64Array,
  inputs: Stage1Inputs,
): { imageForText: number[]; textForImage: number[] } {
  const b = inputs.positions.length;
  const t2i = new Float64Array(b * b);
  for (let i = 0; i < b; i++) for (let t = 0; t < b; t++) t2i[t * b + i] = scaledSims[i * b + t]!;
  const seedOf = (stream: number) => (row: number) => deriveSeed(inputs.seed, inputs.epoch, inputs.positions[row]!, stream);
  return {
    imageForText: drawNegatives(t2i, b, seedOf(NEGATIVE_IMAGE_STREAM)),
    textForImage: drawNegatives(scaledSims, b, seedOf(NEGATIVE_TEXT_STREAM)),
  };
}

/** Image-text matching loss over the 3B pairs built from `negatives`. */
export function matchingLoss(
  model: QueryTransformerModel,
  inputs: Stage1Inputs,
  imageEmbeds: tf.Tensor,
  negatives: { imageForText: readonly number[]; textForImage: readonly number[] },
): tf.Scalar {
  return tf.tidy(() => {
    const b = inputs.positions.length;
    const negTexts = tf.tensor1d(negatives.textForImage as number[], 'int32');
    const negImages = tf.tensor1d(negatives.imageForText as number[], 'int32');
    const ids = tf.concat([inputs.inputIds, inputs.inputIds, tf.gather(inputs.inputIds, negTexts)], 0);
    const mask = tf.concat([inputs.attentionMask, inputs.attentionMask, tf.gather(inputs.attentionMask, negTexts)], 0);
    const images = tf.concat([imageEmbeds, tf.gather(imageEmbeds, negImages), imageEmbeds], 0);
    const logits = model.matchLogits(ids, mask, images) as tf.Tensor2D;
    const labels = tf.tensor1d([...new Array<number>(b).fill(1), ...new Array<number>(2 * b).fill(0)], 'int32');
    return tf.mean(smoothedCrossEntropyRows(logits, labels, 0)) as tf.Scalar;
  });
}

/** Image-grounded generation loss: mean over the real text tokens after the first. */
export function generationLoss(model: QueryTransformerModel, inputs: Stage1Inputs, imageEmbeds: tf.Tensor, epsilon: number): tf.Scalar {
  return tf.tidy(() => {
    const [b, t] = inputs.inputIds.shape as [number, number];
    const ids = decoderInputIds(inputs.inputIds, model.decoderStartTokenId);
    const logits = model.groundedTextLogits(ids, inputs.attentionMask, imageEmbeds);
    const vocab = logits.shape[2]!;
    const predicting = tf.reshape(tf.slice(logits, [0, 0, 0], [b, t - 1, vocab]), [b * (t - 1), vocab]) as tf.Tensor2D;
    const targets = tf.reshape(tf.slice(ids, [0, 1], [b, t - 1]), [-1]) as tf.Tensor1D;
    const valid = tf.reshape(tf.slice(inputs.attentionMask, [0, 1], [b, t - 1]), [-1]) as tf.Tensor1D;
    const count = tf.sum(tf.cast(valid, 'float32'));
    return tf.div(tf.sum(smoothedCrossEntropyRows(predicting, targets, epsilon, valid)), tf.maximum(count, 1)) as tf.Scalar;
  });
}

/**
 * The weighted stage-1 loss of a batch and its parts. Must run where gradients are recorded
 * (inside tf.variableGrads) for training; the hard negatives are read from the similarities,
 * which carries no gradient (LAVIS draws them under torch.no_grad).
 *
 * @example
 * const { total, itc, itm, itg } = stage1Losses(model, inputs, { labelSmoothing: 0.1, weights: { itc: 1, itm: 1, itg: 1 } });
 */
export function stage1Losses(model: QueryTransformerModel, inputs: Stage1Inputs, settings: Stage1Settings): Stage1Losses {
  const { weights } = settings;
  const b = inputs.positions.length;
  const [rows, width] = inputs.inputIds.shape as [number, number];
  if (rows !== b || inputs.pixelValues.shape[0] !== b) {
    throw new MmftError(
      'E_SHAPE',
      `objective blip2-stage1: ${b} positions, ${rows} texts and ${inputs.pixelValues.shape[0]} images in one batch; they must match`,
    );
  }
  if (b < 2 && (weights.itc > 0 || weights.itm > 0)) {
    throw new MmftError('E_DATA', 'objective blip2-stage1: a batch of 1 has no negative for the contrastive and matching losses', {
      hint: 'use train.batch_size of 2 or more',
    });
  }
  if (weights.itg > 0 && width < 2) {
    throw new MmftError('E_DATA', 'objective blip2-stage1: texts of one token leave nothing for the generation loss to predict', {
      hint: 'raise objective.max_length, or use a tokenizer that adds [CLS] and [SEP]',
    });
  }
  const { imageEmbeds, imageFeats } = model.encodeImage(inputs.pixelValues);
  const parts: { itc?: tf.Scalar; itm?: tf.Scalar; itg?: tf.Scalar } = {};
  if (weights.itc > 0 || weights.itm > 0) {
    const textFeats = model.encodeText(inputs.inputIds, inputs.attentionMask);
    const sims = querySimilarities(imageFeats, textFeats);
    if (weights.itc > 0) parts.itc = contrastiveLoss(sims, model.temperature, settings.labelSmoothing);
    if (weights.itm > 0) {
      const scaled = tf.tidy(() => tf.div(sims, model.temperature));
      const values = scaled.dataSync() as Float32Array;
      scaled.dispose();
      parts.itm = matchingLoss(model, inputs, imageEmbeds, hardNegatives(values, inputs));
    }
  }
  if (weights.itg > 0) parts.itg = generationLoss(model, inputs, imageEmbeds, settings.labelSmoothing);
  const terms = (['itc', 'itm', 'itg'] as const).flatMap((k) => (parts[k] ? [tf.mul(parts[k], weights[k])] : []));
  const total = (terms.length > 0 ? tf.addN(terms) : tf.scalar(0)) as tf.Scalar;
  return { total, ...parts };
}
