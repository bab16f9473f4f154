// The "contrastive" objective provider (`objective: { type: contrastive }`, or no objective:
// section at all): validates its section and builds the objective for a run.
import type { ObjectiveProvider } from '@mmft/core';
import { contrastiveConfigSchema, resolveContrastive, type ContrastiveConfig } from './config';
import { createContrastive } from './objective';

export const contrastiveObjective: ObjectiveProvider<ContrastiveConfig> = {
  kind: 'objective',
  id: 'contrastive',
  description:
    'image-text pairs with in-batch (and hard) negatives through a loss: plugin (clip, siglip); retrieval, retrieval-as-captioning and zero-shot VQA evaluation; feature_based trains a head on cached features',
  configSchema: contrastiveConfigSchema,
  create: (config, context) => {
    const train = context.recipe.train;
    return createContrastive(
      resolveContrastive(config, typeof train === 'object' && train !== null ? (train as Record<string, unknown>) : undefined),
      context,
    );
  },
};
