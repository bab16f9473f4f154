// The processor of a CLIP model (ModelProcessor, transformers' CLIPProcessor: CLIPImageProcessor +
// the tokenizer) and its towers. logit_scale is the `head` tower: it belongs to neither encoder,
// and locking the image tower (LiT) keeps training it, as open_clip's lock-image does.
import type { ImageProcessing, ModelProcessor, ModelTowers } from '@mmft/core';
import type { HfTokenizer } from '@mmft/core/hf';

/** HF CLIPModel parameter names by tower; every parameter is in exactly one. */
export const CLIP_TOWERS: ModelTowers = {
  vision: ['vision_model.**', 'visual_projection.**'],
  text: ['text_model.**', 'text_projection.**'],
  head: ['logit_scale'],
};

/**
 * @example
 * clipProcessor(processing, tokenizer).towers.vision; // ['vision_model.**', 'visual_projection.**']
 */
export function clipProcessor(imageProcessing: ImageProcessing, tokenizer: HfTokenizer | undefined): ModelProcessor {
  return { imageProcessing, tokenizer, chatTemplate: tokenizer?.chatTemplate, towers: CLIP_TOWERS };
}
