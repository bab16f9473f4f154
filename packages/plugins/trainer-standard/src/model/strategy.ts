// Which weights train: the recipe's strategy, then its freeze and unfreeze globs. lock-image is
// LiT (Zhai et al. 2022, "Locked-image Tuning"): the image tower of an HF CLIPModel
// (`vision_model.**`, `visual_projection.**`) is frozen, the text tower trains.
import { MmftError } from '@mmft/core';
import type { Module } from '@mmft/core/nn';
import type { TrainConfig } from '../config';

/** HF CLIPModel / SiglipModel names of the image tower. */
export const IMAGE_TOWER = ['vision_model.**', 'visual_projection.**'];

/**
 * Sets `trainable` on every parameter of `root` for the strategy and globs; returns the count.
 *
 * @example
 * applyStrategy(model.root, { strategy: 'lock-image', freeze: [], unfreeze: [] }, false);
 */
export function applyStrategy(root: Module, config: Pick<TrainConfig, 'strategy' | 'freeze' | 'unfreeze'>, hasAdapter: boolean): number {
  if (config.strategy === 'feature-based') {
    root.freeze('**'); // encoders only produce cached features; the head is separate
    return 0;
  }
  if (config.strategy === 'lock-image') {
    const names = root.namedParameters().map(([n]) => n);
    const tower = IMAGE_TOWER.filter((glob) => names.some((n) => n.startsWith(glob.slice(0, glob.indexOf('.')) + '.')));
    if (tower.length === 0) {
      throw new MmftError('E_CONFIG', `train.strategy lock-image: the model has no vision_model.* or visual_projection.* parameters to lock`, {
        hint: 'use train.freeze with this model\'s image-tower names instead (see `mmft` model summary)',
      });
    }
    for (const glob of tower) root.freeze(glob);
  }
  for (const glob of config.freeze) root.freeze(glob);
  for (const glob of config.unfreeze) root.unfreeze(glob);
  const trainable = root.parameterCount({ trainableOnly: true });
  if (trainable === 0 && !hasAdapter) {
    throw new MmftError('E_CONFIG', 'nothing to train: every parameter is frozen by train.strategy/freeze', { hint: 'add train.unfreeze globs or drop some freeze globs' });
  }
  return trainable;
}
