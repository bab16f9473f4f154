// Additive attention masks (0 = attend, MASK_MIN = blocked) shaped [B, 1, T, S] as in HF's
// transformers/modeling_attn_mask_utils.py (`_prepare_4d_causal_attention_mask`,
// `_expand_mask`), which fill blocked positions with torch.finfo(float32).min.

import * as tf from '@tensorflow/tfjs-core';
import { assertThat } from '../errors';

/**
 * The blocked value: float32's lowest finite number, HF's `torch.finfo(torch.float32).min`.
 * Why this and not -Infinity: exp(MASK_MIN - rowMax) underflows to exactly 0, so blocked keys
 * get exactly zero weight; a row whose keys are all blocked stays finite (every score rounds to
 * MASK_MIN, softmax gives uniform weights) where -Infinity would give -inf - -inf = NaN. Sums of
 * masks can overflow to -Infinity, so `combineMasks` and the attention clamp at MASK_MIN.
 */
export const MASK_MIN = -3.4028234663852886e38;

/**
 * Lets position t attend to positions ≤ t only: [1, 1, T, T].
 *
 * @example
 * const mask = causalMask(77); // CLIP text encoder
 */
export function causalMask(length: number): tf.Tensor4D {
  assertThat(Number.isInteger(length) && length > 0, 'E_SHAPE', () => `causalMask needs a positive length, got ${length}`);
  const data = new Float32Array(length * length);
  for (let t = 0; t < length; t++) data.fill(MASK_MIN, t * length + t + 1, (t + 1) * length);
  return tf.tensor4d(data, [1, 1, length, length]);
}

/**
 * Turns a 0/1 attention mask [B, S] (1 = real token, as tokenizers return it) into an additive
 * mask [B, 1, 1, S] that blocks padding keys.
 *
 * @example
 * const mask = paddingMask(tf.tensor2d([[1, 1, 0]], [1, 3], 'int32'));
 */
export function paddingMask(attentionMask: tf.Tensor): tf.Tensor4D {
  assertThat(
    attentionMask.rank === 2,
    'E_SHAPE',
    () => `paddingMask needs a [batch, keys] mask, got shape [${attentionMask.shape.join(', ')}]`,
  );
  const [batch, keys] = attentionMask.shape;
  return tf.tidy(() => tf.reshape(tf.mul(tf.sub(1, tf.cast(attentionMask, 'float32')), MASK_MIN), [batch, 1, 1, keys]));
}

function assertBroadcastable(masks: readonly tf.Tensor[]): void {
  const shapes = masks.map((m) => m.shape);
  // Along each axis all sizes other than 1 must agree.
  const agree = (axis: number) => new Set(shapes.map((s) => s[axis]).filter((d) => d !== 1)).size <= 1;
  const ok = shapes.every((s) => s.length === 4) && [0, 1, 2, 3].every(agree);
  assertThat(
    ok,
    'E_SHAPE',
    () => `masks must be rank 4 and broadcastable to [B, 1, T, S]; got ${shapes.map((s) => `[${s.join(', ')}]`).join(', ')}`,
  );
}

/**
 * Sums additive masks (a position is blocked if any mask blocks it), clamped at MASK_MIN so two
 * blocks never add up to -Infinity. Absent masks are skipped; none at all gives undefined.
 *
 * @example
 * const mask = combineMasks(causalMask(T), paddingMask(attentionMask));
 */
export function combineMasks(...masks: Array<tf.Tensor | null | undefined>): tf.Tensor | undefined {
  const present = masks.filter((m): m is tf.Tensor => m != null);
  if (present.length === 0) return undefined;
  assertBroadcastable(present);
  return tf.tidy(() =>
    tf.maximum(
      present.reduce((sum, m) => tf.add(sum, m)),
      MASK_MIN,
    ),
  );
}

/**
 * Prepends `count` attendable key columns to a mask [..., S] (prefix tuning puts P virtual keys
 * in front of the real ones). A mask that broadcasts over keys (last dim 1) is returned as a copy.
 *
 * @example
 * const extended = extendMaskForPrefix(mask, 10); // [B, 1, T, 10 + S]
 */
export function extendMaskForPrefix(mask: tf.Tensor, count: number): tf.Tensor {
  return tf.tidy(() => {
    if (count === 0 || mask.shape[mask.rank - 1] === 1) return tf.clone(mask);
    const visible = tf.zeros([...mask.shape.slice(0, -1), count]);
    return tf.concat([visible, mask], mask.rank - 1);
  });
}

/**
 * The additive mask of a causal LM forward: [B, 1, T, past + T], query t (absolute position past + t)
 * attends key j when j ≤ past + t and `attentionMask2d[b, j]` is 1. Padding is blocked on keys only, so
 * a left-padded query row is fully blocked (uniform weights, its output is ignored) as in HF. Follows
 * transformers/modeling_attn_mask_utils.py (`_prepare_4d_causal_attention_mask`); the 0/1 mask covers
 * past + new positions, as generate() grows it.
 *
 * @example
 * const mask = causalLmMask(attentionMask, 2, 5, 0); // prefill: [2, 1, 5, 5]
 * const step = causalLmMask(longerMask, 2, 1, 5); // one new token after 5 cached: [2, 1, 1, 6]
 */
export function causalLmMask(attentionMask2d: tf.Tensor | undefined, batch: number, queryLength: number, pastLength: number): tf.Tensor4D {
  const keys = pastLength + queryLength;
  assertThat(
    Number.isInteger(batch) &&
      batch > 0 &&
      Number.isInteger(queryLength) &&
      queryLength > 0 &&
      Number.isInteger(pastLength) &&
      pastLength >= 0,
    'E_SHAPE',
    () => `causalLmMask needs batch > 0, queryLength > 0, pastLength ≥ 0; got ${batch}, ${queryLength}, ${pastLength}`,
  );
  if (attentionMask2d) {
    assertThat(
      attentionMask2d.rank === 2 && attentionMask2d.shape[0] === batch && attentionMask2d.shape[1] === keys,
      'E_SHAPE',
      () =>
        `attentionMask must be [batch, past + new] = [${batch}, ${keys}] (it covers cached positions too), ` +
        `got [${attentionMask2d.shape.join(', ')}]`,
    );
  }
  const causal = new Float32Array(queryLength * keys);
  for (let t = 0; t < queryLength; t++) causal.fill(MASK_MIN, t * keys + pastLength + t + 1, (t + 1) * keys);
  return tf.tidy(() => {
    const base = tf.tensor4d(causal, [1, 1, queryLength, keys]);
    // Blocked by either is blocked: both hold 0 or MASK_MIN, so the sum is 0, MASK_MIN or −Infinity and
    // the clamp at MASK_MIN gives exactly the minimum of the two. A broadcasting add is a fast kernel
    // on the engines where a broadcasting minimum is a generic element loop (~30 ms at [8, 1, 128, 128]
    // on wasm, as much as a decoder layer's attention).
    const combined = attentionMask2d ? tf.maximum(tf.add(base, paddingMask(attentionMask2d)), MASK_MIN) : base;
    return tf.broadcastTo(combined, [batch, 1, queryLength, keys]) as tf.Tensor4D;
  });
}

/**
 * Position ids of the last `queryLength` columns from a 0/1 mask [B, past + T]: cumsum(mask) − 1, padded
 * places set to 1, so a left-padded row's first real token is position 0. Follows transformers'
 * `prepare_inputs_for_generation` (generation/utils.py, v4.4x), which every generate() step applies.
 *
 * @example
 * positionIdsFromMask(tf.tensor2d([[0, 0, 1, 1]], [1, 4], 'int32'), 0, 4); // [[1, 1, 0, 1]]
 */
export function positionIdsFromMask(attentionMask2d: tf.Tensor, pastLength: number, queryLength: number): tf.Tensor2D {
  assertThat(
    attentionMask2d.rank === 2 && attentionMask2d.shape[1] === pastLength + queryLength && queryLength > 0,
    'E_SHAPE',
    () =>
      `positionIdsFromMask: attentionMask must be [batch, past + new] = [B, ${pastLength} + ${queryLength}], ` +
      `got [${attentionMask2d.shape.join(', ')}]`,
  );
  return tf.tidy(() => {
    const mask = tf.cast(attentionMask2d, 'int32');
    const positions = tf.where(tf.equal(mask, 0), tf.onesLike(mask), tf.sub(tf.cumsum(mask, 1), tf.scalar(1, 'int32')));
    return tf.slice(positions, [0, pastLength], [-1, queryLength]) as tf.Tensor2D;
  });
}
