// The causal language-model objective as transformers computes it (loss/loss_utils.py:
// ForCausalLMLoss + fixed_cross_entropy): logits in float32, labels shifted left by one with -100
// appended, -100 ignored, the sum of token losses divided by `numItemsInBatch` when given (gradient
// accumulation across micro-batches) or by this call's label count. Where the backend registers
// the fused CrossEntropy kernel (kernels/kernel_names.ts) the token losses come from it, with no
// [N, V] temporaries in either pass; elsewhere from tfjs ops with a hand-written gradient.
import * as tf from '@tensorflow/tfjs-core';
import { MmftError } from '../errors';
import { CrossEntropy, isRegistered, runFused } from '../kernels';

/** The label value that contributes nothing (transformers' and PyTorch's ignore_index). */
export const IGNORE_INDEX = -100;

const shapeText = (shape: readonly number[]): string => `[${shape.join(', ')}]`;

/** Labels [B, T] shifted left by one, IGNORE_INDEX in the last column (ForCausalLMLoss's pad + slice). */
function shiftLabels(labels: tf.Tensor): tf.Tensor2D {
  const [batch, length] = labels.shape as [number, number];
  const ints = labels.dtype === 'int32' ? labels : tf.cast(labels, 'int32');
  const tail = tf.slice(ints, [0, 1], [batch, length - 1]);
  return tf.concat([tail, tf.fill([batch, 1], IGNORE_INDEX, 'int32')], 1) as tf.Tensor2D;
}

/**
 * Every scored label (shifted [N], rows of `length`) is IGNORE_INDEX or a vocabulary id; otherwise
 * the flat gather below would silently read another row's logit. Returns how many are scored.
 */
function checkLabelRange(shifted: tf.Tensor, length: number, vocab: number): number {
  const values = shifted.dataSync();
  let scored = 0;
  for (let i = 0; i < values.length; i++) {
    const v = values[i];
    if (v === IGNORE_INDEX) continue;
    if (!(Number.isInteger(v) && v >= 0 && v < vocab)) {
      const where = `labels[${Math.floor(i / length)}][${(i % length) + 1}]`;
      throw new MmftError('E_DATA', `causalLmLoss: ${where} is ${v}; labels must be token ids in [0, ${vocab}) or ${IGNORE_INDEX}`, {
        hint: `set positions that should not be trained on to ${IGNORE_INDEX} (prompt, padding, image tokens)`,
      });
    }
    scored++;
  }
  return scored;
}

/** log Σ exp over the last axis of x [N, V], kept [N, 1], with the row maximum subtracted first (stable). */
function logSumExpRows(x: tf.Tensor2D): tf.Tensor2D {
  const peak = tf.max(x, 1, true);
  return tf.add(tf.log(tf.sum(tf.exp(tf.sub(x, peak)), 1, true)), peak);
}

/**
 * Per-row negative log-likelihood weight·(logsumexp(x) − x[label]) of logits [N, V], with the
 * gradient weight·(softmax(x) − onehot(label)). The backward pass recomputes the softmax from x
 * instead of keeping an [N, V] buffer from the forward pass.
 */
function weightedNll(logits: tf.Tensor2D, labels: tf.Tensor1D, weight: tf.Tensor1D): tf.Tensor1D {
  const [rows, vocab] = logits.shape;
  const nll = tf.customGrad((...args: Array<tf.Tensor | tf.GradSaveFunc>) => {
    const [input, save] = args as [tf.Tensor2D, tf.GradSaveFunc];
    const flat = tf.add(tf.mul(tf.range(0, rows, 1, 'int32'), tf.scalar(vocab, 'int32')), labels);
    const picked = tf.gather(tf.reshape(input, [-1]), flat);
    // Only tensors that existed before this op are saved: tfjs counts a kept intermediate as a leak.
    save([input, labels, weight]);
    return {
      value: tf.mul(tf.sub(tf.reshape(logSumExpRows(input), [-1]), picked), weight),
      gradFunc: (dy, saved) => {
        const [x, y, w] = saved as [tf.Tensor2D, tf.Tensor1D, tf.Tensor1D];
        const scale = tf.reshape(tf.mul(dy as tf.Tensor, w), [-1, 1]);
        const softmax = tf.exp(tf.sub(x, logSumExpRows(x)));
        // An int32 one-hot, cast: tfjs-backend-wasm's OneHot writes int32 whatever dtype is asked
        // (tfjs-backend-wasm/src/cc/kernels/OneHot.cc), so a float32 one-hot there holds
        // denormals and the −onehot term would vanish from the gradient.
        return tf.mul(tf.sub(softmax, tf.cast(tf.oneHot(y, vocab), 'float32')), scale);
      },
    };
  });
  return nll(logits) as tf.Tensor1D;
}

/** Σ of the token losses of logits [B, T, V] (float32) for shifted labels [B, T], by the fused kernel. */
function fusedTotal(logits: tf.Tensor, shifted: tf.Tensor2D): tf.Scalar {
  // Logits stay [B, T, V]: the kernel reads rows over any leading shape, so nothing reshapes them
  // (a reshape would be taped, and keep another handle on them until the backward pass).
  const [rowLoss, lse] = runFused(CrossEntropy, { logits, labels: shifted }, { ignoreIndex: IGNORE_INDEX })!;
  lse!.dispose();
  return tf.sum(rowLoss!);
}

/** Σ of the token losses of logits [B, T, V] (float32) for shifted labels [B, T], by tfjs ops. */
function compositeTotal(logits: tf.Tensor, shifted: tf.Tensor2D): tf.Scalar {
  const [batch, length, vocab] = logits.shape as [number, number, number];
  const flatLabels = tf.reshape(shifted, [-1]) as tf.Tensor1D;
  const valid = tf.notEqual(flatLabels, IGNORE_INDEX);
  const weight = tf.cast(valid, 'float32') as tf.Tensor1D;
  const safeLabels = tf.where(valid, flatLabels, tf.zerosLike(flatLabels)) as tf.Tensor1D;
  const flat = tf.reshape(logits, [batch * length, vocab]) as tf.Tensor2D;
  return tf.sum(weightedNll(flat, safeLabels, weight));
}

function lossOf(logits: tf.Tensor, labels: tf.Tensor, numItemsInBatch: number | undefined, fused: boolean): tf.Scalar {
  if (logits.rank !== 3 || labels.rank !== 2 || logits.shape[0] !== labels.shape[0] || logits.shape[1] !== labels.shape[1]) {
    throw new MmftError(
      'E_SHAPE',
      `causalLmLoss: logits ${shapeText(logits.shape)} and labels ${shapeText(labels.shape)} do not fit; ` +
        'logits must be [B, T, V] and labels [B, T] over the same positions',
      { hint: 'labels cover every position of the sequence; when positions were prepended (query tokens), slice the logits first' },
    );
  }
  if (numItemsInBatch !== undefined && !(Number.isFinite(numItemsInBatch) && numItemsInBatch >= 0)) {
    throw new MmftError('E_INPUT', `causalLmLoss: numItemsInBatch is ${numItemsInBatch}; it counts label tokens and must be ≥ 0`);
  }
  const [, length, vocab] = logits.shape as [number, number, number];
  return tf.tidy(() => {
    const shifted = shiftLabels(labels);
    const scored = checkLabelRange(shifted, length, vocab);
    // The upcast of ForCausalLMLoss: half-precision logits are scored in float32.
    const logits32 = logits.dtype === 'float32' ? logits : tf.cast(logits, 'float32');
    const total = fused ? fusedTotal(logits32, shifted) : compositeTotal(logits32, shifted);
    return tf.div(total, numItemsInBatch ?? scored) as tf.Scalar;
  });
}

/**
 * transformers' causal-LM loss of logits [B, T, V] for labels [B, T] (position t predicts label
 * t + 1; -100 ignored). Without `numItemsInBatch` the mean over this call's non-ignored labels;
 * with it, their sum / numItemsInBatch, so micro-batches of an accumulated step add up to the
 * whole batch's mean. When every label is -100 and no `numItemsInBatch` is given the result is
 * NaN (0 / 0), as in PyTorch and HF Trainer: an objective must not emit such a batch. Runs the
 * fused CrossEntropy kernel where the active backend registers it.
 *
 * @example
 * const loss = causalLmLoss(logits, labels); // scalar, differentiable w.r.t. logits
 * const part = causalLmLoss(logits, labels, 37); // one micro-batch of a step with 37 label tokens
 */
export function causalLmLoss(logits: tf.Tensor, labels: tf.Tensor, numItemsInBatch?: number): tf.Scalar {
  return lossOf(logits, labels, numItemsInBatch, isRegistered(CrossEntropy));
}

/**
 * causalLmLoss by tfjs ops whatever the backend registers: the reference the fused kernel is
 * tested against (core's nn suite, packages/core/src/testing/nn-suite/cross-entropy.ts). Not
 * exported from @mmft/core/lm.
 */
export function compositeCausalLmLoss(logits: tf.Tensor, labels: tf.Tensor, numItemsInBatch?: number): tf.Scalar {
  return lossOf(logits, labels, numItemsInBatch, false);
}
