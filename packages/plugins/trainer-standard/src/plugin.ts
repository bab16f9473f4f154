// The "standard" trainer provider: validates its recipe section and runs the loop.
import type { TrainerProvider } from '@mmft/core';
import { trainConfigSchema, type TrainConfig } from './config';
import { runTraining } from './loop/run-training';

/** `train: { type: standard, ... }` */
export const standardTrainer: TrainerProvider<TrainConfig> = {
  kind: 'trainer',
  id: 'standard',
  description:
    'AdamW with warmup + cosine/linear decay, accumulation, clipping, eval, best/last checkpoints and resume; strategies full, lock-image, feature-based',
  configSchema: trainConfigSchema,
  run: (config, context) => runTraining(trainConfigSchema.parse(config), context),
};
