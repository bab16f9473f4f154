// Gradient of the Attention fused kernel (as tfjs-core/src/gradients/*_grad.ts): one
// AttentionGrad kernel yields dq, dk and dv. The mask is a constant in every mmft model; its
// gradient, if ever asked for, is computed from the composite ops (the softmax gradient summed
// over the axes the mask broadcasts along), so it is right rather than fast.
import * as tf from '@tensorflow/tfjs-core';
import type { GradConfig, NamedAttrMap, Tensor } from '@tensorflow/tfjs-core';
import { Attention, AttentionGrad, type AttentionAttrs } from '@mmft/core/kernels';

function maskGradient(dy: Tensor, q: Tensor, k: Tensor, v: Tensor, mask: Tensor, { numHeads, scale, minValue }: AttentionAttrs): Tensor {
  return tf.tidy(() => {
    const heads = (x: Tensor) => tf.transpose(tf.reshape(x, [x.shape[0]!, x.shape[1]!, numHeads, x.shape[2]! / numHeads]), [0, 2, 1, 3]);
    const z = tf.add(tf.mul(tf.matMul(heads(q), heads(k), false, true), scale), mask);
    const p = tf.softmax(tf.maximum(z, minValue));
    const dp = tf.matMul(heads(dy), heads(v), false, true);
    const ds = tf.mul(tf.mul(p, tf.sub(dp, tf.sum(tf.mul(dp, p), -1, true))), tf.cast(tf.greaterEqual(z, minValue), 'float32'));
    return tf.reshape(tf.sum(ds, tf.backend_util.getReductionAxes(mask.shape, ds.shape), true), mask.shape);
  });
}

export const attentionGradConfig: GradConfig = {
  kernelName: Attention,
  inputsToSave: ['q', 'k', 'v', 'mask'],
  gradFunc: (dy: Tensor | Tensor[], saved: Tensor[], attrs: NamedAttrMap) => {
    const [q, k, v, mask] = saved as [Tensor, Tensor, Tensor, Tensor];
    const [dq, dk, dv] = tf.engine().runKernel(AttentionGrad, { dy: dy as Tensor, q, k, v, mask }, attrs) as Tensor[];
    return {
      q: () => dq!,
      k: () => dk!,
      v: () => dv!,
      mask: () => maskGradient(dy as Tensor, q, k, v, mask, attrs as unknown as AttentionAttrs),
    };
  },
};
