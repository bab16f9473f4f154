// @mmft/objective-blip2-stage1: the plugin object (a pure manifest; nothing registers on import).
import { definePlugin } from '@mmft/core';
import { blip2Stage1Provider } from './plugin';

export { blip2Stage1Provider } from './plugin';
export { blip2Stage1ConfigSchema, lossWeightsSchema, type Blip2Stage1Config } from './config';
export { createBlip2Stage1, type Stage1Batch } from './objective';
export {
  contrastiveLoss,
  decoderInputIds,
  drawNegatives,
  generationLoss,
  hardNegatives,
  matchingLoss,
  querySimilarities,
  smoothedCrossEntropyRows,
  stage1Losses,
  type Stage1Inputs,
  type Stage1Losses,
  type Stage1Settings,
} from './losses';
export { preCaption } from './texts';

const pkg = require('../package.json') as { name: string; version: string };

const plugin = definePlugin({
  name: pkg.name,
  version: pkg.version,
  description:
    'BLIP-2 stage 1 (LAVIS blip2_qformer.py): image-text contrastive, matching with hard negatives, image-grounded text generation',
  provides: [blip2Stage1Provider],
});
export default plugin;
