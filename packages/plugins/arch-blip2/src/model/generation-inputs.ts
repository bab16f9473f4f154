// What Blip2ForConditionalGeneration.generate hands the language model
// (src/transformers/models/blip_2/modeling_blip_2.py generate): ≥ 4.55, inputs_embeds,
// attention_mask and input_ids ([image × Q, bos] when no prompt is given); legacy layout,
// inputs_embeds and the widened mask only. The language model then returns the new tokens only.
import * as tf from '@tensorflow/tfjs-core';
import { MmftError, type ModelInputs } from '@mmft/core';
import { languageInputs, type Blip2LanguageParts } from './language-inputs';

/** What generate hands the language model (see the file comment); the caller disposes `owned`. */
export function generationInputs(
  model: Blip2LanguageParts,
  inputs: ModelInputs,
  method: string,
): { inputs: ModelInputs; owned: tf.Tensor[] } {
  const { pixelValues } = inputs;
  if (!pixelValues) throw new MmftError('E_INPUT', `Blip2ForConditionalGeneration.${method} needs pixelValues [B, 3, S, S]`);
  const batch = pixelValues.shape[0]!;
  const owned: tf.Tensor[] = [];
  try {
    let inputIds = inputs.inputIds;
    if (!inputIds) {
      const bos = bosTokenId(model);
      const imageToken = model.config.image_token_index;
      const row = imageToken !== null ? [...new Array<number>(model.config.num_query_tokens).fill(imageToken), bos] : [bos];
      inputIds = tf.tensor2d(
        Array.from({ length: batch }, () => row),
        [batch, row.length],
        'int32',
      );
      owned.push(inputIds);
    }
    const prepared = languageInputs(model, pixelValues, inputIds, inputs.attentionMask, undefined);
    owned.push(...prepared.owned);
    return {
      inputs: prepared.inputIds
        ? { inputIds: prepared.inputIds, inputsEmbeds: prepared.inputsEmbeds, attentionMask: prepared.attentionMask }
        : { inputsEmbeds: prepared.inputsEmbeds, attentionMask: prepared.attentionMask },
      owned,
    };
  } catch (error) {
    tf.dispose(owned);
    throw error;
  }
}

function bosTokenId(model: Blip2LanguageParts): number {
  const bos = model.languageModel.config.bos_token_id ?? model.config.text_config.bos_token_id;
  if (typeof bos !== 'number') {
    throw new MmftError('E_CONFIG', 'generate without inputIds starts from bos, and text_config has no bos_token_id', {
      hint: 'pass inputIds (a prompt), or set text_config.bos_token_id',
    });
  }
  return bos;
}
