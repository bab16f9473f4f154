// The inputs generate hands the language model: a default image prompt and the embeddings with the
// images scattered in (prepare_inputs_for_generation in transformers src/transformers/models/llava/modeling_llava.py).
import * as tf from '@tensorflow/tfjs-core';
import { MmftError, type ModelInputs } from '@mmft/core';
import type { LlavaFeatureParts } from './image-features';

/**
 * What generate hands the language model: the first step reads inputsEmbeds (images scattered in),
 * later steps the new ids only, as prepare_inputs_for_generation passes pixel_values on the first
 * step only. Without inputIds the prompt is [bos?, <image> × count] per image. `embedInputs` is the
 * model's method (so an override is honoured).
 */
export function llavaGenerationInputs(
  model: LlavaFeatureParts,
  inputs: ModelInputs,
  method: string,
  embedInputs: (inputIds: tf.Tensor, pixelValues: tf.Tensor | undefined) => tf.Tensor,
): { inputs: ModelInputs; owned: tf.Tensor[] } {
  const owned: tf.Tensor[] = [];
  try {
    let inputIds = inputs.inputIds;
    if (!inputIds) {
      if (!inputs.pixelValues)
        throw new MmftError('E_INPUT', `LlavaForConditionalGeneration.${method} needs inputIds, pixelValues or both`);
      const bos = model.languageModel.config.bos_token_id;
      const row = [
        ...(typeof bos === 'number' ? [bos] : []),
        ...new Array<number>(model.numImageTokens).fill(model.config.image_token_index),
      ];
      const n = inputs.pixelValues.shape[0]!;
      inputIds = tf.tensor2d(
        Array.from({ length: n }, () => row),
        [n, row.length],
        'int32',
      );
      owned.push(inputIds);
    }
    const embeds = embedInputs(inputIds, inputs.pixelValues);
    owned.push(embeds);
    const attentionMask = inputs.attentionMask;
    return { inputs: attentionMask ? { inputIds, inputsEmbeds: embeds, attentionMask } : { inputIds, inputsEmbeds: embeds }, owned };
  } catch (error) {
    tf.dispose(owned);
    throw error;
  }
}
