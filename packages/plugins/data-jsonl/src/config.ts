// Recipe sections of the three dataset providers (docs/conventions.md §7): a JSONL file of one task format,
// the COCO captions annotation JSON and the VQA v2 questions + annotations pair. Strict (a
// misspelt key is an error) and path fields marked with recipePath, so each resolves from the
// recipe file that wrote it (docs/recipes.md).
import { recipePath } from '@mmft/core';
import { z } from 'zod';

const task = z.enum(['caption', 'vqa', 'retrieval', 'instruction', 'text', 'interleaved']);

export const jsonlConfigSchema = z.strictObject({
  path: recipePath(z.string().min(1)).describe(
    'JSONL file (one record per line), JSON file holding one array of records (LLaVA, LLaMA-Factory, ms-swift), or a LLaMA-Factory dataset_info.json (with name); relative to the recipe file that sets it',
  ),
  name: z
    .string()
    .min(1)
    .optional()
    .describe('entry of the LLaMA-Factory dataset_info.json given as path (its file_name, columns and tags are used)'),
  task: task.optional().describe('task format of the records; detected from the first record when absent'),
  root: recipePath(z.string()).optional().describe('folder images must stay inside; defaults to the data file folder'),
  allowOutsideRoot: z.boolean().default(false).describe('accept absolute image paths and paths leaving the root'),
});
export type JsonlConfig = z.infer<typeof jsonlConfigSchema>;
/** What a recipe may write (defaults optional). */
export type JsonlConfigInput = z.input<typeof jsonlConfigSchema>;

export const cocoCaptionsConfigSchema = z.strictObject({
  annotations: recipePath(z.string().min(1)).describe('COCO captions annotation JSON (captions_train2014.json)'),
  images: recipePath(z.string().min(1)).describe('folder holding the images named by images[].file_name'),
  task: z.enum(['caption', 'retrieval']).default('caption').describe('serve captions (caption) or image-text positives (retrieval)'),
});
export type CocoCaptionsConfig = z.infer<typeof cocoCaptionsConfigSchema>;
export type CocoCaptionsConfigInput = z.input<typeof cocoCaptionsConfigSchema>;

export const vqaV2ConfigSchema = z.strictObject({
  questions: recipePath(z.string().min(1)).describe('VQA v2 questions JSON (v2_OpenEnded_mscoco_train2014_questions.json)'),
  annotations: recipePath(z.string().min(1)).describe('VQA v2 annotations JSON (v2_mscoco_train2014_annotations.json)'),
  images: recipePath(z.string().min(1)).describe('folder of the COCO images of that split'),
  imageTemplate: z
    .string()
    .default('COCO_{subtype}_{id}.jpg')
    .describe('image file name; {subtype} is data_subtype (train2014), {id} the 12-digit zero-padded image_id'),
});
export type VqaV2Config = z.infer<typeof vqaV2ConfigSchema>;
export type VqaV2ConfigInput = z.input<typeof vqaV2ConfigSchema>;
