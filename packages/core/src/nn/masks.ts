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
