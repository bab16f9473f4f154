// The optional hook through which `mmft probe` (packages/cli/src/probe/run-probe.ts) measures how
// much a vision-language model's language model attends to the image. Models implement it with
// recordAttention (packages/core/src/nn/attention-record.ts), the counterpart of transformers'
// output_attentions=True.
import type * as tf from '@tensorflow/tfjs-core';
import type { ModelInputs } from './model';

/** What `attentionProbabilities` returns; the caller disposes `probabilities`. */
export interface AttentionProbabilities {
  /** One [B, H, T, T] tensor per layer of the language model, first layer first (transformers' `attentions`). */
  readonly probabilities: tf.Tensor[];
  /** [B][T]: whether position t of row b holds the image (only the model knows where it put it). */
  readonly imagePositions: boolean[][];
  /** [B][T]: 1 where position t of row b is attended (not padding), over the same T positions. */
  readonly attentionMask: number[][];
}

/**
 * A model whose language model's attention probabilities on `inputs` can be read: one forward
 * without labels. A legacy BLIP-2 prepends its queries, so T may exceed the inputIds length.
 *
 * @example
 * if (probesAttention(model)) {
 *   const { probabilities, imagePositions } = model.attentionProbabilities(batch.inputs);
 *   tf.dispose(probabilities);
 * }
 */
export interface AttentionProbing {
  attentionProbabilities(inputs: ModelInputs): AttentionProbabilities;
}

/** Whether `model` implements AttentionProbing. */
export const probesAttention = (model: unknown): model is AttentionProbing =>
  typeof model === 'object' && model !== null && typeof (model as Partial<AttentionProbing>).attentionProbabilities === 'function';
