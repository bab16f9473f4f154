// @mmft/objective-contrastive: the contrastive objective for dual encoders (CLIP, SigLIP): caption
// choice and hard negatives, the loss through a loss: plugin, retrieval evaluation (plus
// retrieval-as-captioning and zero-shot VQA inputs), and the feature-based mode.
import { definePlugin } from '@mmft/core';
import { contrastiveObjective } from './plugin';

export * from './config';
export { contrastiveObjective } from './plugin';
export { trainedLossParameters } from './objective';
export { answerVocabulary, bestMatches, captionInputs, retrievalInput, vqaInputs, type EvalChunk } from './eval/inputs';

const pkg = require('../package.json') as { name: string; version: string };
const provides = [contrastiveObjective];

/** The plugin object recipes load as "@mmft/objective-contrastive". */
const plugin = definePlugin({ name: pkg.name, version: pkg.version, description: 'the contrastive objective (CLIP, SigLIP)', provides });
export default plugin;
