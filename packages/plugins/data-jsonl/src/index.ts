// @mmft/data-jsonl: dataset providers for the JSONL task formats (also JSON array files and
// LLaMA-Factory dataset_info.json entries) and the COCO / VQA v2 layouts,
// plus the validator, splitter and stats behind `mmft data validate|split|stats`.
import { definePlugin } from '@mmft/core';
import { cocoCaptionsDataset, jsonlDataset, vqaV2Dataset } from './plugin';

export * from './config';
export { cocoCaptionsDataset, jsonlDataset, vqaV2Dataset } from './plugin';
export { openJsonlDataset, type JsonlDatasetOptions } from './datasets/jsonl-dataset';
export { openCocoCaptions } from './datasets/coco-captions';
export { openVqaV2, vqaImageName } from './datasets/vqa-v2';
export { visitOrder, shuffledPositions } from './io/order';
export { readLines, type RawLine } from './io/read-lines';
export { indexLines, type LineIndex } from './io/line-index';
export { indexJsonArray, isJsonArrayFile, readJsonArray, type RawElement } from './io/json-array';
export { resolveDataSource, type DataSource } from './datasets/dataset-info';
export { IMAGE_TOKEN, type ShareGptLayout, type TurnTags } from './records/instruction';
export { detectTask, TASKS } from './records/parse-record';
export { MESSAGES, formatIssue, type Issue, type MessageCode, type Severity } from './validate/messages';
export { validateFiles, type ValidateOptions, type ValidationReport } from './validate/validate';
export { formatReport, formatStats } from './validate/report';
export type { DataStats } from './validate/stats';
export { splitFile, type SplitOptions, type SplitResult } from './split/split';
export {
  ANNOTATION_TEMPLATES,
  llavaJson,
  synthFromAnnotations,
  type AnnotationRecord,
  type AnnotationTemplate,
  type SynthAnnotationsOptions,
  type SynthAnnotationsResult,
} from './synth/annotations';

const pkg = require('../package.json') as { name: string; version: string };
const provides = [jsonlDataset, cocoCaptionsDataset, vqaV2Dataset];

/** The plugin object the CLI and recipes load as "@mmft/data-jsonl". */
const plugin = definePlugin({
  name: pkg.name,
  version: pkg.version,
  description: 'JSONL, COCO captions and VQA v2 datasets; validate, split, stats',
  provides,
});
export default plugin;
