// The recipe's `init:` block of an IDEFICS model section: the part folders a fresh IDEFICS is
// composed from (compose.ts says how). The same names as LLaVA's
// (packages/plugins/arch-llava/src/init-schema.ts), so one pair of part folders feeds every bridge.
import { recipePath } from '@mmft/core';
import { z } from 'zod';

/**
 * The `init:` block of `model: { type: idefics, config: ..., init: ... }`.
 *
 * @example
 * init: { vision: ../models/clip-shapes-base, language_model: ../models/llama-shapes-base }
 */
export const ideficsInitSchema = z.strictObject({
  vision: recipePath(z.string().min(1))
    .optional()
    .describe('CLIP (model_type clip) or CLIPVisionModel (clip_vision_model) folder: its vision tower, vision_config and image mean/std'),
  language_model: recipePath(z.string().min(1))
    .optional()
    .describe(
      "Llama folder: its config.json gives the top-level text fields, its weights model.* and lm_head (grouped-query heads repeated), its tokenizer the model's with <image> added",
    ),
});
export type IdeficsInit = z.input<typeof ideficsInitSchema>;
