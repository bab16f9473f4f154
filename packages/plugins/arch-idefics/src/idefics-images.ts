// The images of one IdeficsForVisionText2Text call (./idefics-for-vision-text2text.ts): their
// features laid out per row with the per-token cross-attention mask, the rows and positions a
// later decode step reads, and the gradient-checkpointing guard.
import * as tf from '@tensorflow/tfjs-core';
import { MmftError } from '@mmft/core';
import { gradientCheckpointingOf, type AnyModule, type ModuleList } from '@mmft/core/nn';
import type { IdeficsConfigJson } from './config';
import type { CrossAttentionInputs } from './gated-cross-attention';
import { crossAttentionMask, imageIndexPerToken } from './image-attention-mask';

/** The images of one call, prepared once and read by every gated block. */
export interface ImageState {
  readonly imageStates: tf.Tensor;
  /** Additive [B, 1, T, S] and gate [B, T, 1] for the call's T tokens. */
  readonly mask: tf.Tensor;
  readonly gate: tf.Tensor;
}

const shapeOf = (t: tf.Tensor) => `[${t.shape.join(', ')}]`;

/** What preparing the images reads of the model (IdeficsForVisionText2Text has all of it). */
export interface IdeficsImageSource {
  readonly imageTokenId: number | undefined;
  readonly imageSeqLen: number;
  readonly config: IdeficsConfigJson;
  getImageFeatures(pixelValues: tf.Tensor): tf.Tensor;
}

/**
 * The images for a call on `x` [B', T', D]: the prepared mask when T' is the prompt's length;
 * later tokens see what the prompt's last token sees (IdeficsForVisionText2Text's
 * _update_model_kwargs_for_generation repeats the last row); rows repeated for beams or
 * num_return_sequences (repeat_interleave) take their prompt row's images.
 */
export function imagesForCall(state: ImageState | undefined, x: tf.Tensor): CrossAttentionInputs | undefined {
  if (!state) return undefined;
  const [batch, length] = x.shape as [number, number, number];
  const [b0, , t0] = state.mask.shape as [number, number, number, number];
  let { imageStates, mask, gate } = state;
  if (length !== t0) {
    const lastMask = tf.slice(mask, [0, 0, t0 - 1, 0], [-1, -1, 1, -1]);
    const lastGate = tf.slice(gate, [0, t0 - 1, 0], [-1, 1, -1]);
    if (length < t0) {
      mask = tf.tile(lastMask, [1, 1, length, 1]);
      gate = tf.tile(lastGate, [1, length, 1]);
    } else {
      mask = tf.concat([mask, tf.tile(lastMask, [1, 1, length - t0, 1])], 2);
      gate = tf.concat([gate, tf.tile(lastGate, [1, length - t0, 1])], 1);
    }
  }
  if (batch !== b0) {
    if (batch % b0 !== 0)
      throw new MmftError('E_SHAPE', `IDEFICS: a batch of ${batch} rows cannot repeat the ${b0} rows the images were given for`);
    const rows = tf.tensor1d(
      Array.from({ length: batch }, (_, i) => Math.floor(i / (batch / b0))),
      'int32',
    );
    imageStates = tf.gather(imageStates, rows);
    mask = tf.gather(mask, rows);
    gate = tf.gather(gate, rows);
  }
  return { imageStates, mask, gate };
}

/**
 * The images of a call: features of every image, per row its images in order (zeros where a row
 * has fewer than the most), and the per-token mask. `pixelValues` is [B, N, 3, S, S] (IDEFICS's
 * layout: row b's images) or [ΣN, 3, S, S] (the images row by row, as many per row as it has
 * `<image>` tokens). A row with more `<image>` tokens than images is an E_INPUT error.
 */
export function prepareIdeficsImages(model: IdeficsImageSource, inputIds: tf.Tensor, pixelValues: tf.Tensor): ImageState {
  if (model.imageTokenId === undefined) {
    throw new MmftError('E_CONFIG', 'IDEFICS: images were given but <image> has no id', {
      hint: 'use a tokenizer with an <image> token, or set image_token_id in config.json',
    });
  }
  if (inputIds.rank !== 2) throw new MmftError('E_SHAPE', `IDEFICS: inputIds must be [B, T], got ${shapeOf(inputIds)}`);
  const ids = inputIds.arraySync() as number[][];
  const perRow = ids.map((row) => row.filter((id) => id === model.imageTokenId).length);
  const batch = ids.length;
  let counts: number[];
  let flat: tf.Tensor;
  if (pixelValues.rank === 5) {
    if (pixelValues.shape[0] !== batch)
      throw new MmftError('E_SHAPE', `IDEFICS: pixelValues ${shapeOf(pixelValues)} has ${pixelValues.shape[0]} rows, inputIds ${batch}`);
    const n = pixelValues.shape[1]!;
    counts = ids.map(() => n);
    flat = tf.reshape(pixelValues, [batch * n, ...pixelValues.shape.slice(2)]);
  } else if (pixelValues.rank === 4) {
    counts = perRow;
    const total = perRow.reduce((a, b) => a + b, 0);
    if (total !== pixelValues.shape[0]) {
      throw new MmftError(
        'E_INPUT',
        `IDEFICS: inputIds hold ${total} <image> tokens (per row ${perRow.join(', ')}) but pixelValues has ${pixelValues.shape[0]} images`,
        {
          hint: 'give one image per <image> token, row by row in reading order, or pixelValues [B, N, 3, S, S]',
        },
      );
    }
    flat = pixelValues;
  } else {
    throw new MmftError('E_SHAPE', `IDEFICS: pixelValues must be [B, N, 3, S, S] or [N, 3, S, S], got ${shapeOf(pixelValues)}`);
  }
  perRow.forEach((count, row) => {
    if (count > counts[row]!)
      throw new MmftError('E_INPUT', `IDEFICS: row ${row} has ${count} <image> tokens but ${counts[row]} images`, {
        hint: 'give one image per <image> token',
      });
  });
  const maxImages = Math.max(1, ...counts);
  const seq = model.imageSeqLen;
  const imageStates = tf.tidy(() => {
    const features = flat.shape[0]! > 0 ? model.getImageFeatures(flat) : tf.zeros([0, seq, model.config.vision_config.embed_dim]);
    const width = features.shape[2]!;
    // Row b's slot k takes image offset_b + k; a missing slot takes the zero block at index total.
    const padded = tf.concat([features, tf.zeros([1, seq, width])], 0);
    const index: number[] = [];
    let offset = 0;
    for (const count of counts) {
      for (let k = 0; k < maxImages; k++) index.push(k < count ? offset + k : features.shape[0]!);
      offset += count;
    }
    return tf.reshape(tf.gather(padded, tf.tensor1d(index, 'int32')), [batch, maxImages * seq, width]);
  });
  if (flat !== pixelValues) flat.dispose();
  const indices = imageIndexPerToken(ids, model.imageTokenId, model.config.eos_token_id);
  const { mask, gate } = crossAttentionMask(indices, maxImages, seq);
  return { imageStates, mask, gate };
}

/**
 * Refuses images under gradient checkpointing while a gradient is being recorded: a checkpointed
 * decoder layer recomputes its block after this forward has returned, and the image states the
 * gated block reads are neither its inputs nor alive then (packages/core/src/nn/checkpoint.ts).
 */
export function checkImageCheckpointing(root: AnyModule): void {
  const layers = root.getModule<ModuleList>('model.layers');
  if (tf.engine().isTapeOn() && gradientCheckpointingOf(layers) > 0) {
    throw new MmftError('E_CONFIG', 'IDEFICS: gradient checkpointing of the decoder layers is not supported with images yet', {
      hint: 'train without gradient_checkpointing (training.gradient_checkpointing: false)',
    });
  }
}
