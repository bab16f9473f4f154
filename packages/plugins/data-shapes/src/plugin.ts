// The `shapes` dataset provider: kind 'dataset', every task, config validated by its own schema.
import { parseConfig, type DatasetProvider } from '@mmft/core';
import { isTextCorpus, shapesConfigSchema, SHAPES_ALL_TASKS, type ShapesConfig } from './config';
import { ShapesDataset } from './dataset';
import { ShapesTextDataset } from './text-corpus';

/**
 * @example
 * const ds = await shapesDataset.open(shapesConfigSchema.parse({ task: 'caption', domain: 'B' }), { baseDir: '.' });
 */
export const shapesDataset: DatasetProvider<ShapesConfig> = {
  kind: 'dataset',
  id: 'shapes',
  description:
    'Procedural shapes scenes (1–4 objects, two visual domains) with captions, VQA, retrieval hard negatives and dialogues in English and Chinese, and their text corpus for LM pretraining; generated in memory, deterministic by seed',
  configSchema: shapesConfigSchema,
  tasks: SHAPES_ALL_TASKS,
  async open(raw) {
    const config = parseConfig(shapesDataset, raw);
    return isTextCorpus(config) ? new ShapesTextDataset(config) : new ShapesDataset(config);
  },
};
