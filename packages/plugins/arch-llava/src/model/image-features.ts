// Image features and their scatter into the `<image>` positions of the text embeddings
// (get_image_features, get_placeholder_mask + masked_scatter in transformers src/transformers/models/llava/modeling_llava.py).
import * as tf from '@tensorflow/tfjs-core';
import { MmftError, type CausalLanguageModel, type VisionEncoderModel } from '@mmft/core';
import type { AnyModule } from '@mmft/core/nn';
import type { LlavaConfigJson } from '../config';
import type { LlavaProjector } from '../projector';

/** What the feature functions read of the model. */
export interface LlavaFeatureParts {
  readonly root: AnyModule;
  readonly config: LlavaConfigJson;
  readonly visionTower: VisionEncoderModel;
  readonly languageModel: CausalLanguageModel;
  readonly numImageTokens: number;
}

const shapeOf = (t: tf.Tensor) => `[${t.shape.join(', ')}]`;

/** The layer indices asked of the tower (vision_feature_layer as a list). */
function featureLayers(config: LlavaConfigJson): number[] {
  const l = config.vision_feature_layer;
  return Array.isArray(l) ? [...l] : [l];
}

/** Projected image features [N_images, numImageTokens, D_lm] (get_image_features). */
export function imageFeatures(model: LlavaFeatureParts, pixelValues: tf.Tensor): tf.Tensor {
  const states = model.visionTower.hiddenStates(pixelValues, featureLayers(model.config));
  try {
    return tf.tidy(() => {
      const chosen = states.map((s) =>
        model.config.vision_feature_select_strategy === 'default' ? tf.slice(s, [0, 1, 0], [-1, -1, -1]) : s,
      );
      const features = chosen.length === 1 ? chosen[0]! : tf.concat(chosen, -1);
      return model.root.getModule<LlavaProjector>('multi_modal_projector').forward(features);
    });
  } finally {
    tf.dispose(states);
  }
}

/**
 * The language model's input embeddings with the image features in the `<image>` positions. The
 * k-th image-token position in reading order (row by row) takes feature k of the flattened
 * [N_images × numImageTokens] features; a count that disagrees is an E_INPUT error naming the row.
 * `getImageFeatures` computes the features (the model's method, so an override is honoured).
 */
export function embedInputsWithImages(
  model: LlavaFeatureParts,
  inputIds: tf.Tensor,
  pixelValues: tf.Tensor | undefined,
  getImageFeatures: (pixelValues: tf.Tensor) => tf.Tensor,
): tf.Tensor {
  if (inputIds.rank !== 2) throw new MmftError('E_SHAPE', `inputIds must be [B, T], got ${shapeOf(inputIds)}`);
  const [batch, t] = inputIds.shape as [number, number];
  const imageToken = model.config.image_token_index;
  const ids = inputIds.arraySync() as number[][];
  const perRow = ids.map((row) => row.filter((id) => id === imageToken).length);
  const totalTokens = perRow.reduce((a, b) => a + b, 0);
  const images = pixelValues ? pixelValues.shape[0]! : 0;
  const count = model.numImageTokens;
  if (totalTokens !== images * count) throw mismatch(model, perRow, images, totalTokens);
  if (totalTokens === 0) return model.languageModel.embedTokens(inputIds);
  const features = getImageFeatures(pixelValues!);
  try {
    return tf.tidy(() => {
      const d = features.shape[2]!;
      // One row gather from [text embeddings; image features] stacked on axis 0: position (b, p) reads
      // its own text row, or row B·T + k for the k-th image position. Equal to masked_scatter, but
      // whole rows copied once: a boolean mask widened to [B, T, D] by tile plus a `where` (and their
      // gradients) cost as much as a decoder layer on the wasm engine (docs/benchmarks.md, LLaVA).
      const gatherIndex = new Int32Array(batch * t);
      // Image ids may lie past the vocabulary; their embeddings are never read, so embed id 0 there.
      const textIds = new Int32Array(batch * t);
      let k = 0;
      ids.forEach((row, b) =>
        row.forEach((id, p) => {
          const at = b * t + p;
          if (id === imageToken) gatherIndex[at] = batch * t + k++;
          else [gatherIndex[at], textIds[at]] = [at, id];
        }),
      );
      const text = model.languageModel.embedTokens(tf.tensor2d(textIds, [batch, t], 'int32'));
      const table = tf.concat([tf.reshape(text, [batch * t, d]), tf.reshape(features, [images * count, d])], 0);
      return tf.reshape(tf.gather(table, tf.tensor1d(gatherIndex, 'int32'), 0), [batch, t, d]);
    });
  } finally {
    features.dispose();
  }
}

function mismatch(model: LlavaFeatureParts, perRow: number[], images: number, totalTokens: number): MmftError {
  const count = model.numImageTokens;
  const id = model.config.image_token_index;
  // The row to name: the first whose tokens are not whole images, else the first past the images given.
  let consumed = 0;
  let row = perRow.findIndex((n) => n % count !== 0);
  if (row < 0) row = perRow.findIndex((n) => (consumed += n / count) > images);
  if (row < 0) row = perRow.length - 1;
  const rowText = `row ${row} of inputIds has ${perRow[row]} image tokens (id ${id})`;
  return new MmftError(
    'E_INPUT',
    `image tokens and image features do not match: ${rowText}; the batch has ${totalTokens} image tokens but ${images} image(s) × ${count} features = ${images * count} features`,
    {
      hint: `each <image> must expand to exactly ${count} tokens (model.processor.imageTokens.count) with one image per <image>; truncation (max_length) cutting an image span is the usual cause`,
    },
  );
}
