// Recipe sections of the two contrastive losses (`loss: { type: clip | siglip, ... }`). Defaults
// follow the reference trainers: CLIP's temperature init ln(1/0.07) and clamp ln(100)
// (open_clip src/open_clip/model.py, src/training/train.py); SigLIP's t' = ln 10, b = -10
// (open_clip SigLipLoss / the SigLIP paper, arXiv:2303.15343 §3).
import { z } from 'zod';

/** ln(100): CLIP never scales logits by more than 100 (CLIP paper §2.5; open_clip train.py). */
export const MAX_LOGIT_SCALE = Math.log(100);

const shared = {
  normalize: z
    .boolean()
    .default(true)
    .describe('L2-normalise imageEmbeds/textEmbeds before the dot product (a no-op on already normalised HF outputs)'),
  max_logit_scale: z
    .number()
    .positive()
    .default(MAX_LOGIT_SCALE)
    .describe('upper clamp of the log-space logit scale, applied in the forward pass (default ln(100) as CLIP/open_clip)'),
  learn_logit_scale: z.boolean().default(true).describe('train the loss-owned logit scale; only used when the model outputs no logitScale'),
};

export const clipLossConfigSchema = z
  .strictObject({
    ...shared,
    init_logit_scale: z
      .number()
      .default(Math.log(1 / 0.07))
      .describe('initial log-space logit scale when the loss owns it (CLIP: ln(1/0.07) ≈ 2.659)'),
  })
  .describe('symmetric InfoNCE of CLIP; hard-negative texts beyond the image count are extra columns');

export const siglipLossConfigSchema = z
  .strictObject({
    ...shared,
    init_logit_scale: z.number().default(Math.log(10)).describe("initial log-space logit scale t' when the loss owns it (SigLIP: ln 10)"),
    init_logit_bias: z.number().default(-10).describe('initial logit bias b when the loss owns it (SigLIP: -10)'),
    learn_logit_bias: z.boolean().default(true).describe('train the loss-owned logit bias; only used when the model outputs no logitBias'),
  })
  .describe('pairwise sigmoid loss of SigLIP with a learnable bias; hard-negative texts are extra -1 columns');

export type ClipLossConfig = z.output<typeof clipLossConfigSchema>;
export type SiglipLossConfig = z.output<typeof siglipLossConfigSchema>;
