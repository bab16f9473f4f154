// The language model's inputs for an image and its text in Blip2ForConditionalGeneration, in both
// input layouts transformers has had (src/transformers/models/blip_2/modeling_blip_2.py forward):
// - current (config image_token_index set; 4.45+): the text holds num_query_tokens image tokens
//   (Blip2Processor writes them in front) whose embeddings the projected queries replace in order
//   (get_placeholder_mask + masked_scatter); the sequence length is unchanged.
// - legacy (image_token_index null; ≤ 4.54's fallback): the queries are prepended to the text
//   embeddings and the attention mask gains num_query_tokens ones.
// Labels follow forward's loss: logits[:, -L:] shifted against labels[:, 1:] (L = labels length),
// i.e. the language model's causal loss on [−100 × (N − L + 1), labels[:, 1:]]; image-token
// positions are −100 in either layout.
import * as tf from '@tensorflow/tfjs-core';
import { MmftError, type CausalLanguageModel } from '@mmft/core';
import type { Blip2Config } from '../config';
import type { Blip2Root } from './blip2-root';

/** The parts of a Blip2ForConditionalGeneration the inputs are built from. */
export interface Blip2LanguageParts {
  readonly root: Pick<Blip2Root, 'imageFeatures'>;
  readonly languageModel: Pick<CausalLanguageModel, 'embedTokens' | 'config'>;
  readonly config: Pick<Blip2Config, 'num_query_tokens' | 'image_token_index' | 'text_config'>;
}

/** What the language model receives for one forward or generate call; the caller disposes `owned`. */
export interface LanguageInputs {
  readonly inputsEmbeds: tf.Tensor;
  readonly attentionMask: tf.Tensor;
  readonly inputIds?: tf.Tensor;
  readonly labels?: tf.Tensor;
  readonly owned: tf.Tensor[];
}

const shapeOf = (t: tf.Tensor) => `[${t.shape.join(', ')}]`;
const IGNORE = -100;

/** The language model's inputs for pixels + ids in this config's layout (see the file comment). */
export function languageInputs(
  model: Blip2LanguageParts,
  pixelValues: tf.Tensor,
  inputIds: tf.Tensor,
  mask: tf.Tensor | undefined,
  labels: tf.Tensor | undefined,
): LanguageInputs {
  const q = model.config.num_query_tokens;
  const batch = pixelValues.shape[0]!;
  if (inputIds.rank !== 2 || inputIds.shape[0] !== batch) {
    throw new MmftError('E_SHAPE', `inputIds must be [${batch}, T] (one row per image), got ${shapeOf(inputIds)}`);
  }
  const t = inputIds.shape[1]!;
  if (mask && (mask.rank !== 2 || mask.shape[0] !== batch || mask.shape[1] !== t)) {
    throw new MmftError('E_SHAPE', `attentionMask must be [${batch}, ${t}] like inputIds, got ${shapeOf(mask)}`);
  }
  const ids = inputIds.arraySync() as number[][];
  const owned: tf.Tensor[] = [];
  const keep = <T extends tf.Tensor>(x: T): T => (owned.push(x), x);
  try {
    const image = keep(model.root.imageFeatures(pixelValues)); // [B, Q, D]
    const d = image.shape[2]!;
    const text = keep(model.languageModel.embedTokens(inputIds));
    const imageToken = model.config.image_token_index;
    let inputsEmbeds: tf.Tensor;
    let attentionMask: tf.Tensor;
    const imagePositions: number[][] = ids.map(() => []);
    if (imageToken !== null) {
      // masked_scatter in order: the k-th image token of row b takes query k of image b.
      const gatherIndex = new Int32Array(batch * t);
      const isImage = new Uint8Array(batch * t);
      ids.forEach((row, b) => {
        row.forEach((id, p) => {
          if (id !== imageToken) return;
          const k = imagePositions[b]!.length;
          imagePositions[b]!.push(p);
          if (k < q) {
            gatherIndex[b * t + p] = b * q + k;
            isImage[b * t + p] = 1;
          }
        });
        if (imagePositions[b]!.length !== q) {
          throw new MmftError(
            'E_INPUT',
            `row ${b} of inputIds has ${imagePositions[b]!.length} image tokens (id ${imageToken}); this BLIP-2 needs exactly num_query_tokens = ${q} per row`,
            { hint: 'tokenize with the model processor (withImageTokens), which writes them in front of the text' },
          );
        }
      });
      inputsEmbeds = keep(
        tf.tidy(() => {
          const scattered = tf.reshape(tf.gather(tf.reshape(image, [batch * q, d]), tf.tensor1d(gatherIndex, 'int32')), [batch, t, d]);
          const where = tf.tile(tf.reshape(tf.tensor1d(isImage, 'bool'), [batch, t, 1]), [1, 1, d]);
          return tf.where(where, scattered, text);
        }),
      );
      attentionMask = mask ?? keep(tf.ones([batch, t], 'int32'));
    } else {
      inputsEmbeds = keep(tf.concat([image, text], 1));
      attentionMask = keep(
        tf.tidy(() => tf.concat([tf.ones([batch, q], 'int32'), mask ? tf.cast(mask, 'int32') : tf.ones([batch, t], 'int32')], 1)),
      );
      ids.forEach((_, b) => imagePositions[b]!.push(...Array.from({ length: q }, (_, k) => k)));
    }
    const n = inputsEmbeds.shape[1]!;
    let fullLabels: tf.Tensor | undefined;
    if (labels) {
      if (labels.rank !== 2 || labels.shape[0] !== batch || labels.shape[1]! > n || labels.shape[1]! < 1) {
        throw new MmftError(
          'E_SHAPE',
          `labels must be [${batch}, L] with 1 ≤ L ≤ ${n} (the language model's sequence), got ${shapeOf(labels)}`,
          {
            hint:
              imageToken !== null
                ? 'labels cover inputIds (image tokens included)'
                : 'legacy layout: labels cover the text (inputIds) only',
          },
        );
      }
      const l = labels.shape[1]!;
      const given = labels.arraySync() as number[][];
      // forward's loss: logits[:, -L:] against labels[:, 1:], i.e. label j sits at position N − L + j.
      const rows = given.map((row, b) => {
        const full = new Array<number>(n).fill(IGNORE);
        for (let j = 1; j < l; j++) full[n - l + j] = row[j]!;
        for (const p of imagePositions[b]!) full[p] = IGNORE;
        return full;
      });
      fullLabels = keep(tf.tensor2d(rows, [batch, n], 'int32'));
    }
    return {
      inputsEmbeds,
      attentionMask,
      inputIds: imageToken !== null ? inputIds : undefined,
      labels: fullLabels,
      owned,
    };
  } catch (error) {
    tf.dispose(owned);
    throw error;
  }
}
