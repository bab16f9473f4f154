// Which weights train: the recipe's strategy, then its freeze and unfreeze entries (parameter-name
// globs or tower names). lock-image is LiT (Zhai et al. 2022, "Locked-image Tuning"): the model's
// `vision` tower (model.processor.towers; `vision_model.**` + `visual_projection.**` for an HF
// CLIPModel) is frozen, the rest trains.
import { expandTowers, MmftError, towerPatterns, type ModelTowers } from '@mmft/core';
import type { Module } from '@mmft/core/nn';
import type { TrainConfig } from '../config';

/**
 * Sets `trainable` on every parameter of `root` for the strategy and the freeze / unfreeze
 * entries (a tower name of `towers` stands for its globs); returns the trainable count.
 *
 * @example
 * applyStrategy(model.root, { strategy: 'lock-image', freeze: [], unfreeze: [] }, false, model.processor.towers);
 */
export function applyStrategy(
  root: Module,
  config: Pick<TrainConfig, 'strategy' | 'freeze' | 'unfreeze'>,
  hasAdapter: boolean,
  towers: ModelTowers,
): number {
  if (config.strategy === 'feature-based') {
    root.freeze('**'); // encoders only produce cached features; the head is separate
    return 0;
  }
  if (config.strategy === 'lock-image') {
    for (const glob of towerPatterns(towers, 'vision', 'train.strategy lock-image')) root.freeze(glob);
  }
  for (const glob of expandTowers(config.freeze, towers)) root.freeze(glob);
  for (const glob of expandTowers(config.unfreeze, towers)) root.unfreeze(glob);
  const trainable = root.parameterCount({ trainableOnly: true });
  if (trainable === 0 && !hasAdapter) {
    throw new MmftError('E_CONFIG', 'nothing to train: every parameter is frozen by train.strategy/freeze', {
      hint: 'add train.unfreeze globs or drop some freeze globs',
    });
  }
  return trainable;
}
