// The recipe's `init:` block of a BLIP-2 model section (its zod schema) and what composing from
// parts reports back. The block names the part folders LAVIS composes its BLIP-2 from
// (lavis/models/blip2_models/blip2.py init_vision_encoder, blip2_opt.py); init-from-parts.ts says how.
import { recipePath, type ImageProcessing } from '@mmft/core';
import { z } from 'zod';
import type { Blip2ConfigInput } from '../config';

/**
 * The `init:` block of `model: { type: blip2, config: ..., init: ... }`: folders whose weights
 * replace the fresh ones after the model is built.
 *
 * @example
 * init: { vision: ../models/clip-shapes-base, language_model: ../models/opt-shapes-base }
 */
export const blip2InitSchema = z.strictObject({
  vision: recipePath(z.string().min(1))
    .optional()
    .describe(
      'CLIP folder (model_type clip or clip_vision_model; CLIP pre_layrnorm is folded or dropped, see vision_pre_layernorm) or BLIP-2 folder: its vision tower becomes vision_model.* and vision_config',
    ),
  vision_pre_layernorm: z
    .enum(['fold', 'drop'])
    .default('fold')
    .describe(
      "CLIP's pre_layrnorm, which Blip2VisionModel lacks: fold (default) puts it into the embeddings (exact for the class token, one fixed std for the patch tokens); drop leaves it out",
    ),
  vision_pre_layernorm_scale: z
    .number()
    .positive()
    .optional()
    .describe(
      'with fold: the per-token std of the CLIP embeddings that the patch tokens are divided by; default: estimated from the weights',
    ),
  qformer: recipePath(z.string().min(1))
    .optional()
    .describe('BLIP-2 folder (retrieval or captioning): query_tokens and the qformer.* tensors this model has, plus its qformer_config'),
  language_model: recipePath(z.string().min(1))
    .optional()
    .describe("causal-LM folder: its config.json becomes text_config, its weights language_model.*, its tokenizer the model's"),
});
/** The `init:` block as written (`vision_pre_layernorm` may be left out: fold). */
export type Blip2Init = z.input<typeof blip2InitSchema>;

/** What `resolveBlip2Config` gives `Blip2ForConditionalGeneration.fromConfig`. */
export interface Blip2InitPlan {
  /** Blip2Config fields: the parts' sub-configs under the section's explicit fields. */
  readonly config: Blip2ConfigInput;
  /** Tokenizer folder: the section's, else the language model folder. */
  readonly tokenizer?: string;
  /** The vision folder's mean / std at vision_config.image_size, when it has preprocessor_config.json. */
  readonly imageProcessing?: ImageProcessing;
}

/** What `applyBlip2Init` copied, per part. */
export interface Blip2InitReport {
  readonly vision?: {
    readonly dir: string;
    readonly format: 'clip' | 'blip-2';
    /** Target tensors written. */
    readonly copied: number;
    /** Source tensors with no place in Blip2VisionModel (CLIP pre_layrnorm with `drop`, layers beyond num_hidden_layers). */
    readonly dropped: string[];
    /** CLIP sources: what became of pre_layrnorm. */
    readonly preLayerNorm?: PreLayerNormReport;
  };
  readonly qformer?: { readonly dir: string; readonly copied: number; readonly skipped: string[] };
  readonly languageModel?: { readonly dir: string; readonly copied: number };
}

/**
 * CLIP's pre_layrnorm in the converted tower. `fold`: the class token is exact; each patch token
 * is LN_pre(e) when its std over the hidden dims equals `scale` (otherwise it is that LN scaled by
 * std(e) / scale). `scaleFrom` says whether `scale` was given (vision_pre_layernorm_scale) or
 * estimated from the weights (`estimateClipEmbeddingStd`).
 */
export type PreLayerNormReport =
  | { readonly mode: 'fold'; readonly scale: number; readonly scaleFrom: 'given' | 'weights'; readonly classToken: 'exact' }
  | { readonly mode: 'drop' };
