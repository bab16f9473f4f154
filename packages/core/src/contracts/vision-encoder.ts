// The vision-encoder contract: an image tower on its own (transformers' CLIPVisionModel,
// SiglipVisionModel), as bridges use it. LLaVA reads a chosen layer's hidden states
// (src/transformers/models/llava/modeling_llava.py, get_image_features: output_hidden_states=True,
// vision_feature_layer, vision_feature_select_strategy) and builds the tower through the registry
// from config.vision_config.model_type, so no bridge imports the plugin that provides it.
import type { Tensor } from '@tensorflow/tfjs-core';
import type { VisionLanguageModel } from './architecture';

/**
 * An image encoder. `hiddenStates` follows transformers' `output_hidden_states`: index 0 is the
 * embedding output (after any pre-encoder LayerNorm, CLIP's `pre_layrnorm`), index k the output of
 * encoder layer k (1…numLayers), none with the final `post_layernorm`.
 */
export interface VisionEncoderModel extends VisionLanguageModel {
  readonly family: 'vision-encoder';
  /** Width of every hidden state. */
  readonly hiddenSize: number;
  /** Encoder layers; `hiddenStates` has numLayers + 1 entries. */
  readonly numLayers: number;
  /** Side of the square input in pixels (vision_config.image_size). */
  readonly imageSize: number;
  /** Side of one patch in pixels. */
  readonly patchSize: number;
  /** Whether position 0 of every hidden state is a class token (CLIP: yes; SigLIP: no). */
  readonly hasClassToken: boolean;
  /**
   * pixels [B, 3, S, S] → the hidden states at `layers` (indices into the numLayers + 1 states,
   * negative counting from the end as Python does; default every state), each [B, N, hiddenSize].
   * Layers after the deepest one asked for are not run.
   */
  hiddenStates(pixelValues: Tensor, layers?: readonly number[]): Tensor[];
}

/** Whether a loaded model is a vision encoder (family 'vision-encoder' with `hiddenStates`). */
export function isVisionEncoderModel(model: VisionLanguageModel): model is VisionEncoderModel {
  return model.family === 'vision-encoder' && typeof (model as Partial<VisionEncoderModel>).hiddenStates === 'function';
}
