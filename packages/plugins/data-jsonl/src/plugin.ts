// The three dataset providers of this plugin: "jsonl" (the five task formats, one record per
// line), "coco-captions" and "vqa-v2" (the annotation layouts as downloaded). Paths in a recipe
// resolve from the recipe's folder (DatasetContext.baseDir). Providers are typed by what a recipe
// writes (zod input: defaults optional); open() parses, so defaults apply.
import * as path from 'node:path';
import { parseConfig, type DatasetProvider } from '@mmft/core';
import {
  cocoCaptionsConfigSchema,
  jsonlConfigSchema,
  vqaV2ConfigSchema,
  type CocoCaptionsConfigInput,
  type JsonlConfigInput,
  type VqaV2ConfigInput,
} from './config';
import { openCocoCaptions } from './datasets/coco-captions';
import { openJsonlDataset } from './datasets/jsonl-dataset';
import { openVqaV2 } from './datasets/vqa-v2';

/** `type: jsonl` — a JSONL file of caption, vqa, retrieval, instruction, text or interleaved records. */
export const jsonlDataset: DatasetProvider<JsonlConfigInput> = {
  kind: 'dataset',
  id: 'jsonl',
  description: 'JSONL file of caption, vqa, retrieval, instruction, text or interleaved records (one JSON object per line)',
  configSchema: jsonlConfigSchema,
  tasks: ['caption', 'vqa', 'retrieval', 'instruction', 'text', 'interleaved'],
  async open(raw, { baseDir }) {
    const config = parseConfig(jsonlConfigSchema, raw, 'dataset "jsonl"');
    return openJsonlDataset(path.resolve(baseDir, config.path), {
      task: config.task,
      root: config.root === undefined ? undefined : path.resolve(baseDir, config.root),
      allowOutsideRoot: config.allowOutsideRoot,
      ...(config.name === undefined ? {} : { name: config.name }),
    });
  },
};

/** `type: coco-captions` — captions_*.json plus its image folder. */
export const cocoCaptionsDataset: DatasetProvider<CocoCaptionsConfigInput> = {
  kind: 'dataset',
  id: 'coco-captions',
  description: 'COCO captions annotation JSON (captions_train2014.json) with its image folder',
  configSchema: cocoCaptionsConfigSchema,
  tasks: ['caption', 'retrieval'],
  async open(raw, { baseDir }) {
    const config = parseConfig(cocoCaptionsConfigSchema, raw, 'dataset "coco-captions"');
    return openCocoCaptions({
      ...config,
      annotations: path.resolve(baseDir, config.annotations),
      images: path.resolve(baseDir, config.images),
    });
  },
};

/** `type: vqa-v2` — the VQA v2 questions + annotations JSON pair with the COCO images. */
export const vqaV2Dataset: DatasetProvider<VqaV2ConfigInput> = {
  kind: 'dataset',
  id: 'vqa-v2',
  description: 'VQA v2 questions + annotations JSON with the COCO image folder',
  configSchema: vqaV2ConfigSchema,
  tasks: ['vqa'],
  async open(raw, { baseDir }) {
    const config = parseConfig(vqaV2ConfigSchema, raw, 'dataset "vqa-v2"');
    return openVqaV2({
      ...config,
      questions: path.resolve(baseDir, config.questions),
      annotations: path.resolve(baseDir, config.annotations),
      images: path.resolve(baseDir, config.images),
    });
  },
};
