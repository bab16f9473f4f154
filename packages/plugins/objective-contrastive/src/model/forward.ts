// Forward helpers over any dual encoder: pass the model's own temperature to the loss. HF
// CLIPModel keeps `logit_scale` (and SiglipModel `logit_bias`) as top-level parameters but does not
// return them; the trainer adds them to the outputs as logitScale/logitBias so the loss uses the
// checkpoint's learned temperature instead of re-initialising one.
import * as tf from '@tensorflow/tfjs-core';
import { MmftError, type ModelInputs, type ModelOutputs, type VisionLanguageModel } from '@mmft/core';

/** model.forward plus logitScale/logitBias from root parameters when the forward omits them. */
export function forwardWithScale(model: VisionLanguageModel, inputs: ModelInputs): ModelOutputs {
  const outputs: Record<string, tf.Tensor> = { ...model.forward(inputs) };
  // clone: a tensor the caller may dispose without freeing the variable
  if (!outputs.logitScale && model.root.hasParam('logit_scale')) outputs.logitScale = tf.clone(model.root.param('logit_scale'));
  if (!outputs.logitBias && model.root.hasParam('logit_bias')) outputs.logitBias = tf.clone(model.root.param('logit_bias'));
  return outputs;
}

/** Embeddings of one modality: `imageEmbeds` for pixels, `textEmbeds` for tokens. */
export function embedOne(model: VisionLanguageModel, inputs: ModelInputs, key: 'imageEmbeds' | 'textEmbeds'): tf.Tensor2D {
  return tf.tidy(() => {
    const outputs = model.forward(inputs);
    const embeds = outputs[key];
    if (!embeds || embeds.rank !== 2) {
      throw new MmftError(
        'E_SHAPE',
        `model "${model.modelType}" returned no ${key} [N, D] for a ${key === 'imageEmbeds' ? 'pixels-only' : 'text-only'} forward (got ${Object.keys(outputs).join(', ') || 'nothing'})`,
        {
          hint: 'the standard trainer needs a dual encoder whose forward accepts one modality at a time',
        },
      );
    }
    return embeds as tf.Tensor2D;
  });
}
