// Which position of each text sequence CLIP pools, as CLIPTextTransformer.forward in
// transformers/models/clip/modeling_clip.py decides it (4.31+, PR #24773): with the legacy
// eos_token_id == 2 of the original openai configs, the argmax of input_ids (the <|endoftext|>
// id 49407 is the largest in CLIP's vocabulary); otherwise the first position holding eos_token_id.
import * as tf from '@tensorflow/tfjs-core';
import { assertThat } from '@mmft/core';

/**
 * Pooled position per row of `inputIds` [B, T]. Ties in the argmax resolve to the first position,
 * as torch.argmax does; a row without any eos gives 0, as HF's argmax over an all-zero row does.
 *
 * @example
 * eosPositions(tf.tensor2d([[5, 9, 7, 7]], [1, 4], 'int32'), 7); // [2]
 */
export function eosPositions(inputIds: tf.Tensor, eosTokenId: number): number[] {
  assertThat(inputIds.rank === 2, 'E_SHAPE', () => `input_ids must be [batch, length], got [${inputIds.shape.join(', ')}]`);
  const [batch, length] = inputIds.shape as [number, number];
  // Ids are small and never need gradients: reading them once here is exact and backend-neutral.
  const ids = inputIds.dataSync();
  const positions: number[] = [];
  for (let b = 0; b < batch; b++) {
    const row = ids.subarray(b * length, (b + 1) * length);
    let best = 0;
    if (eosTokenId === 2) {
      for (let t = 1; t < length; t++) if (row[t] > row[best]) best = t;
    } else {
      const found = row.indexOf(eosTokenId);
      best = found < 0 ? 0 : found;
    }
    positions.push(best);
  }
  return positions;
}

/**
 * Rows of `hidden` [B, T, D] at `positions` (one per batch row) → [B, D]; differentiable in `hidden`.
 *
 * @example
 * const pooled = gatherPositions(lastHiddenState, eosPositions(inputIds, 49407));
 */
export function gatherPositions(hidden: tf.Tensor, positions: readonly number[]): tf.Tensor {
  const [batch, length, dim] = hidden.shape as [number, number, number];
  assertThat(positions.length === batch, 'E_SHAPE', () => `need one position per batch row (${batch}), got ${positions.length}`);
  return tf.tidy(() => {
    const flat = tf.reshape(hidden, [batch * length, dim]);
    const index = tf.tensor1d(
      positions.map((t, b) => b * length + t),
      'int32',
    );
    return tf.gather(flat, index);
  });
}
