// The language model's attention probabilities for `mmft probe` (AttentionProbing in
// packages/core/src/contracts/attention-probing.ts): one forward without labels under core's
// recordAttention, transformers' LlavaForConditionalGeneration(..., output_attentions=True), whose
// `attentions` are the language model's. The image sits where the processor expanded `<image>` into
// image_token_index tokens, so the LM sequence is inputIds itself.
import * as tf from '@tensorflow/tfjs-core';
import { MmftError, type AttentionProbabilities, type ModelInputs } from '@mmft/core';
import { recordAttention } from '@mmft/core/nn';

/** What the probe needs of the model. */
export interface LlavaAttentionParts {
  readonly config: { readonly image_token_index: number };
  forward(inputs: ModelInputs): { readonly logits: tf.Tensor; readonly loss?: tf.Tensor };
}

/** Per-layer probabilities [B, H, T, T], image positions (input_ids == image_token_index) and the 0/1 mask (ones when absent). */
export function llavaAttentionProbabilities(model: LlavaAttentionParts, inputs: ModelInputs): AttentionProbabilities {
  const { inputIds, pixelValues, attentionMask, positionIds } = inputs;
  if (!inputIds)
    throw new MmftError('E_INPUT', 'LlavaForConditionalGeneration.attentionProbabilities needs inputIds [B, T] (with <image> tokens)');
  const ids = inputIds.arraySync() as number[][];
  const image = model.config.image_token_index;
  const imagePositions = ids.map((row) => row.map((id) => id === image));
  const mask = attentionMask ? (attentionMask.arraySync() as number[][]).map((row) => row.map(Number)) : ids.map((row) => row.map(() => 1));
  const { result, probabilities } = recordAttention(() => model.forward({ inputIds, pixelValues, attentionMask, positionIds }));
  tf.dispose([result.logits, result.loss]);
  return { probabilities, imagePositions, attentionMask: mask };
}
