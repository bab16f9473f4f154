// The non-weight files of a CLIP checkpoint folder: core's Hugging Face folder reader
// (@mmft/core/hf readHfFolder) with config.json parsed as a CLIPConfig. Weights are load-weights.ts.
import { join } from 'node:path';
import { readHfFolder } from '@mmft/core/hf';
import type { ClipConfig } from '../config';
import { parseClipConfig } from './parse-config';

/** The parsed non-weight files of a checkpoint folder. */
export interface CheckpointFiles {
  config: ClipConfig;
  /** Raw bytes of each tokenizer file found, by file name. */
  tokenizerFiles: Map<string, Uint8Array>;
  /** preprocessor_config.json, parsed, if present. */
  preprocessor?: Record<string, unknown>;
}

/**
 * Reads config.json, tokenizer files and preprocessor_config.json of `dir`.
 *
 * @example
 * const { config, tokenizerFiles } = await readCheckpointFiles('models/clip-shapes');
 */
export async function readCheckpointFiles(dir: string): Promise<CheckpointFiles> {
  const folder = await readHfFolder(dir, { modelName: 'CLIP' });
  const config = parseClipConfig(folder.config, join(dir, 'config.json'));
  return { config, tokenizerFiles: folder.tokenizerFiles, preprocessor: folder.preprocessor };
}
