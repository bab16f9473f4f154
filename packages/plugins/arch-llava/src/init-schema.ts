// The recipe's `init:` block of a LLaVA model section: the part folders a fresh LLaVA is composed
// from (compose.ts says how).
import { recipePath } from '@mmft/core';
import { z } from 'zod';

/**
 * The `init:` block of `model: { type: llava, config: ..., init: ... }`.
 *
 * @example
 * init: { vision: ../models/clip-shapes-base, language_model: ../models/llama-shapes-base }
 */
export const llavaInitSchema = z.strictObject({
  vision: recipePath(z.string().min(1))
    .optional()
    .describe('CLIP (model_type clip) or CLIPVisionModel (clip_vision_model) folder: its vision tower and vision_config'),
  language_model: recipePath(z.string().min(1))
    .optional()
    .describe("causal-LM folder: its config.json becomes text_config, its weights language_model.*, its tokenizer the model's"),
});
export type LlavaInit = z.input<typeof llavaInitSchema>;
