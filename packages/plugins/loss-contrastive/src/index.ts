// @mmft/loss-contrastive: the "clip" and "siglip" contrastive losses for dual encoders.
import { definePlugin } from '@mmft/core';
import { clipLoss, siglipLoss } from './plugin';

export * from './config';
export { clipLoss, siglipLoss } from './plugin';
export { createClipLoss, diagonalCrossEntropy } from './clip-loss';
export { createSiglipLoss, sigmoidPairLoss } from './siglip-loss';
export { pairLogits, type PairLogits } from './similarity';

const pkg = require('../package.json') as { name: string; version: string };
const provides = [clipLoss, siglipLoss];

/** The plugin object recipes load as "@mmft/loss-contrastive". */
const plugin = definePlugin({ name: pkg.name, version: pkg.version, description: 'CLIP and SigLIP contrastive losses', provides });
export default plugin;
