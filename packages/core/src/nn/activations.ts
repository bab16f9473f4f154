// Activation functions under their Hugging Face `hidden_act` names, from
// transformers/activations.py (ACT2FN): exact erf GELU (torch.nn.functional.gelu's default),
// the tanh approximations, CLIP's quick_gelu, relu and silu. gelu and quick_gelu run as one fused
// kernel each where the active tfjs backend registers one (@mmft/backend-tfjs does for wasm and
// cpu, with gradients), else as the composite ops.

import * as tf from '@tensorflow/tfjs-core';
import { MmftError } from '../errors';
import { Gelu, QuickGelu, runFused } from '../kernels';

/** An elementwise function on tensors. */
export type Activation = (x: tf.Tensor) => tf.Tensor;

/** Run the fused `kernelName` on float32 x when the active backend registers it, else undefined. */
const fused = (kernelName: typeof Gelu | typeof QuickGelu, x: tf.Tensor): tf.Tensor | undefined =>
  x.dtype === 'float32' ? runFused(kernelName, { x }) : undefined;

/** GELU, exact: x·Φ(x) = 0.5·x·(1 + erf(x/√2)). */
export const gelu: Activation = (x) => fused(Gelu, x) ?? tf.tidy(() => tf.mul(tf.mul(x, 0.5), tf.add(1, tf.erf(tf.mul(x, Math.SQRT1_2)))));

/** GELU, tanh approximation: 0.5·x·(1 + tanh(√(2/π)·(x + 0.044715·x³))) (gelu_new / gelu_pytorch_tanh). */
export const geluTanh: Activation = (x) =>
  tf.tidy(() => {
    const inner = tf.mul(Math.sqrt(2 / Math.PI), tf.add(x, tf.mul(0.044715, tf.pow(x, 3))));
    return tf.mul(tf.mul(x, 0.5), tf.add(1, tf.tanh(inner)));
  });

/** GPT-2's name for the tanh approximation (ACT2FN 'gelu_new', NewGELUActivation). */
export const geluNew: Activation = geluTanh;

/** CLIP's fast approximation x·σ(1.702·x). */
export const quickGelu: Activation = (x) => fused(QuickGelu, x) ?? tf.tidy(() => tf.mul(x, tf.sigmoid(tf.mul(x, 1.702))));

/** max(0, x). */
export const relu: Activation = (x) => tf.relu(x);

/** x·σ(x), also called swish. */
export const silu: Activation = (x) => tf.tidy(() => tf.mul(x, tf.sigmoid(x)));

/**
 * Activations keyed by HF config `hidden_act`.
 *
 * @example
 * const act = ACTIVATIONS['quick_gelu']; // CLIP ViT-B/32
 */
export const ACTIVATIONS: Readonly<Record<string, Activation>> = Object.freeze({
  gelu,
  gelu_python: gelu,
  gelu_new: geluTanh,
  gelu_pytorch_tanh: geluTanh,
  gelu_fast: geluTanh,
  quick_gelu: quickGelu,
  relu,
  relu6: (x: tf.Tensor) => tf.relu6(x),
  silu,
  swish: silu,
  sigmoid: (x: tf.Tensor) => tf.sigmoid(x),
  tanh: (x: tf.Tensor) => tf.tanh(x),
  linear: (x: tf.Tensor) => x,
});

/**
 * The activation for a `hidden_act` name; an unknown name lists the known ones.
 *
 * @example
 * const act = getActivation(config.hidden_act);
 */
export function getActivation(name: string): Activation {
  if (Object.prototype.hasOwnProperty.call(ACTIVATIONS, name)) return ACTIVATIONS[name];
  throw new MmftError('E_CONFIG', `unknown activation "${name}"; known: ${Object.keys(ACTIVATIONS).join(', ')}`, {
    hint: 'check hidden_act in config.json',
  });
}
