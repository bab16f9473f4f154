// @mmft/loss-contrastive: the "clip" and "siglip" contrastive losses for dual encoders.
import { registerProviders, type MmftPlugin } from '@mmft/core';
import { clipLoss, siglipLoss } from './plugin';

export * from './config';
export { clipLoss, siglipLoss } from './plugin';
export { createClipLoss, diagonalCrossEntropy } from './clip-loss';
export { createSiglipLoss, sigmoidPairLoss } from './siglip-loss';
export { pairLogits, type PairLogits } from './similarity';

const provides = [clipLoss, siglipLoss];

/** The plugin object recipes load as "@mmft/loss-contrastive". */
const plugin: MmftPlugin = {
  meta: { name: '@mmft/loss-contrastive', version: '0.1.0', description: 'CLIP and SigLIP contrastive losses' },
  provides,
  register: (container) => registerProviders(container, provides),
};
export default plugin;
