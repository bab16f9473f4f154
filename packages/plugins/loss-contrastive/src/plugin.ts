// The two loss providers of this plugin, "clip" and "siglip": each validates its recipe section
// with its own schema and builds a Loss (packages/core/src/contracts/loss.ts).
import { parseConfig, type LossProvider } from '@mmft/core';
import { createClipLoss } from './clip-loss';
import { clipLossConfigSchema, siglipLossConfigSchema, type ClipLossConfig, type SiglipLossConfig } from './config';
import { createSiglipLoss } from './siglip-loss';

/** `loss: { type: clip }`: symmetric InfoNCE (CLIP / open_clip ClipLoss). */
export const clipLoss: LossProvider<ClipLossConfig> = {
  kind: 'loss',
  id: 'clip',
  description: 'CLIP symmetric InfoNCE over image/text embeddings; extra texts are hard negatives',
  configSchema: clipLossConfigSchema,
  create: (config) => createClipLoss(parseConfig(clipLoss, config)),
};

/** `loss: { type: siglip }`: pairwise sigmoid loss with learnable bias (SigLIP). */
export const siglipLoss: LossProvider<SiglipLossConfig> = {
  kind: 'loss',
  id: 'siglip',
  description: 'SigLIP pairwise sigmoid loss with learnable temperature and bias; extra texts are hard negatives',
  configSchema: siglipLossConfigSchema,
  create: (config) => createSiglipLoss(parseConfig(siglipLoss, config)),
};
