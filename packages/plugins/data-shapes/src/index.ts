// @mmft/data-shapes: the embedded default dataset (plugin default export + the generator API).
import type { MmftPlugin } from '@mmft/core';
import { registerProviders } from '@mmft/core';
import { shapesDataset } from './plugin';

export { shapesConfigSchema, SHAPES_TASKS, type ShapesConfig, type ShapesConfigInput } from './config';
export { ShapesDataset } from './dataset';
export { examplesOf, imagePathOf, renderSample, renderSamples, type ShapesSample } from './generate';
export { sampleScene, leftToRight, type Scene, type SceneObject } from './scene';
export { sceneToSvg, renderScenePng } from './render';
export { writeShapesDataset, toRecord, TASK_FILES, type WriteShapesOptions, type WriteShapesResult } from './write';
export { COLORS, SHAPES, SIZES, DOMAINS, type ColorName, type ShapeName, type SizeName, type Domain } from './vocabulary';
export { shapesDataset };

const plugin: MmftPlugin = {
  meta: { name: '@mmft/data-shapes', version: '0.1.0', description: 'The embedded default dataset: procedural shapes scenes in two domains, four tasks, English and Chinese' },
  provides: [shapesDataset],
  register: (container) => registerProviders(container, plugin.provides),
};

export default plugin;
