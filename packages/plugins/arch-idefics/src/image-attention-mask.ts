// Which image each text token attends to, as IDEFICS's processor computes it
// (image_attention_mask_for_packed_input_ids + incremental_to_binary_attention_mask in transformers
// src/transformers/models/idefics/processing_idefics.py, copied there from m4's packing): a token sees
// the most recent `<image>` at or before it, none before the first image, and none after an
// end-of-sequence token until the next `<image>`. open_flamingo's only_attend_immediate_media
// (open_flamingo/src/helpers.py MaskedCrossAttention) is the same rule without the EOS reset.
import * as tf from '@tensorflow/tfjs-core';
import { MASK_MIN } from '@mmft/core/nn';

/**
 * Per row and token, the index (within the row) of the image the token attends to, or -1.
 *
 * @example
 * imageIndexPerToken([[5, 9, 5, 2, 5]], 9, 2); // [[-1, 0, 0, 0, -1]] (the EOS itself still sees image 0)
 */
export function imageIndexPerToken(ids: readonly (readonly number[])[], imageTokenId: number, eosTokenId?: number): number[][] {
  return ids.map((row) => {
    let count = -1;
    let seenEos = false;
    return row.map((id) => {
      if (id === imageTokenId) {
        count += 1;
        seenEos = false;
      }
      const index = seenEos ? -1 : count;
      if (id === eosTokenId) seenEos = true;
      return index;
    });
  });
}

/**
 * The additive cross-attention mask [B, 1, T, maxImages·seqLen] (0 on the image slots a token
 * attends to, MASK_MIN elsewhere) and the gate [B, T, 1] (1 where the token attends to an image).
 * Indices at or beyond `maxImages` see no image, as incremental_to_binary_attention_mask's
 * num_classes cut does.
 */
export function crossAttentionMask(
  indices: readonly (readonly number[])[],
  maxImages: number,
  seqLen: number,
): { mask: tf.Tensor; gate: tf.Tensor } {
  const b = indices.length;
  const t = indices[0]?.length ?? 0;
  const s = maxImages * seqLen;
  const mask = new Float32Array(b * t * s).fill(MASK_MIN);
  const gate = new Float32Array(b * t);
  indices.forEach((row, r) =>
    row.forEach((image, p) => {
      if (image < 0 || image >= maxImages) return;
      gate[r * t + p] = 1;
      mask.fill(0, (r * t + p) * s + image * seqLen, (r * t + p) * s + (image + 1) * seqLen);
    }),
  );
  return { mask: tf.tensor4d(mask, [b, 1, t, s]), gate: tf.tensor3d(gate, [b, t, 1]) };
}
