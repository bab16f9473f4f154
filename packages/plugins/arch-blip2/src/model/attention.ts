// The language model's attention probabilities for `mmft probe` (AttentionProbing in
// packages/core/src/contracts/attention-probing.ts): the language model's inputs as forward builds
// them (language-inputs.ts), one forward under core's recordAttention, as transformers'
// Blip2ForConditionalGeneration(..., output_attentions=True) returns language_model_outputs.attentions.
// Where the image sits depends on the layout: the image tokens of the current layout, or the first
// num_query_tokens positions of the legacy layout, which prepends the queries to the text.
import * as tf from '@tensorflow/tfjs-core';
import { MmftError, type AttentionProbabilities, type CausalLanguageModel, type ModelInputs } from '@mmft/core';
import { recordAttention } from '@mmft/core/nn';
import { languageInputs, type Blip2LanguageParts } from './language-inputs';

/** Per-layer probabilities [B, H, N, N] over the language model's sequence, its image positions and its 0/1 mask. */
export function blip2AttentionProbabilities(
  model: Blip2LanguageParts & { readonly languageModel: Pick<CausalLanguageModel, 'forward'> },
  inputs: ModelInputs,
): AttentionProbabilities {
  const { pixelValues, inputIds } = inputs;
  if (!pixelValues || !inputIds)
    throw new MmftError(
      'E_INPUT',
      'Blip2ForConditionalGeneration.attentionProbabilities needs pixelValues [B, 3, S, S] and inputIds [B, T]',
    );
  const prepared = languageInputs(model, pixelValues, inputIds, inputs.attentionMask, undefined);
  try {
    const imageToken = model.config.image_token_index;
    const q = model.config.num_query_tokens;
    const ids = inputIds.arraySync() as number[][];
    const imagePositions =
      imageToken !== null
        ? ids.map((row) => row.map((id) => id === imageToken))
        : ids.map((row) => [...new Array<boolean>(q).fill(true), ...row.map(() => false)]);
    const attentionMask = (prepared.attentionMask.arraySync() as number[][]).map((row) => row.map(Number));
    const { result, probabilities } = recordAttention(() =>
      model.languageModel.forward({ inputsEmbeds: prepared.inputsEmbeds, attentionMask: prepared.attentionMask }),
    );
    tf.dispose([result.logits, result.loss]);
    return { probabilities, imagePositions, attentionMask };
  } finally {
    tf.dispose(prepared.owned);
  }
}
