// The `shapes` dataset provider: kind 'dataset', every task, config validated by its own schema.
import { parseConfig, type DatasetProvider } from '@mmft/core';
import { shapesConfigSchema, SHAPES_TASKS, type ShapesConfig } from './config';
import { ShapesDataset } from './dataset';

/**
 * @example
 * const ds = await shapesDataset.open(shapesConfigSchema.parse({ task: 'caption', domain: 'B' }), { baseDir: '.' });
 */
export const shapesDataset: DatasetProvider<ShapesConfig> = {
  kind: 'dataset',
  id: 'shapes',
  description:
    'Procedural shapes scenes (1–4 objects, two visual domains) with captions, VQA, retrieval hard negatives and dialogues in English and Chinese; generated in memory, deterministic by seed',
  configSchema: shapesConfigSchema,
  tasks: SHAPES_TASKS,
  async open(config) {
    return new ShapesDataset(parseConfig(shapesDataset, config));
  },
};
