// @mmft/data-shapes: the embedded default dataset (plugin default export + the generator API).
import { definePlugin } from '@mmft/core';
import { shapesDataset } from './plugin';

export { isTextCorpus, shapesConfigSchema, SHAPES_ALL_TASKS, SHAPES_TASKS, type ShapesConfig, type ShapesConfigInput } from './config';
export { ShapesDataset } from './dataset';
export { corpusUnits, sceneUnits, splitOfText, ShapesTextDataset, EVAL_BUCKETS, type CorpusUnit, type TextKind } from './text-corpus';
export { unigramBaseline, wordTokens, type UnigramBaseline } from './unigram';
export { examplesOf, imagePathOf, renderSample, renderSamples, type ShapesSample } from './generate';
export { sampleScene, leftToRight, type Scene, type SceneObject } from './scene';
export { sceneToSvg, renderScenePng } from './render';
export { writeShapesDataset, toRecord, TASK_FILES, type WriteShapesOptions, type WriteShapesResult } from './write';
export { synthConversation, planOf, SYNTH_TEMPLATES, type Beat, type SynthConversation, type SynthTemplate } from './synth';
export { regionOf } from './synth-wording';
export {
  dedupKey,
  synthRecordsOf,
  writeShapesSynth,
  SYNTH_FILE,
  type LlavaRecord,
  type SynthProvenance,
  type SynthShapesOptions,
  type SynthShapesResult,
} from './synth-write';
export { COLORS, SHAPES, SIZES, DOMAINS, type ColorName, type ShapeName, type SizeName, type Domain } from './vocabulary';
export { shapesDataset };

const pkg = require('../package.json') as { name: string; version: string };

const plugin = definePlugin({
  name: pkg.name,
  version: pkg.version,
  description: 'The embedded default dataset: procedural shapes scenes in two domains, four tasks and a text corpus, English and Chinese',
  provides: [shapesDataset],
});

export default plugin;
