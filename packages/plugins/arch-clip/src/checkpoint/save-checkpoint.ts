// Writes a CLIP checkpoint folder in the layout transformers' CLIPModel.save_pretrained produces
// (config.json with architectures/model_type/torch_dtype/transformers_version, model.safetensors in
// F32 with metadata {"format": "pt"}, tokenizer files, preprocessor_config.json), atomically.
import { join } from 'node:path';
import { checkOutputFolder, type ImageProcessing, type SaveOptions } from '@mmft/core';
import { hfJson } from '@mmft/core/hf';
import { tensorsFromModule, writeFileDurable, writeFolder, writeSafetensors } from '@mmft/core/io';
import type { ClipConfig } from '../config';
import type { ClipRoot } from '../model/clip-root';
import { imageProcessorJson } from './preprocessor';

/** The transformers release whose config layout we write (also the first to drop position_ids buffers: ≥ 4.31). */
export const TRANSFORMERS_VERSION = '4.46.3';

/** Keys of the recipe section that are not part of config.json. */
const RECIPE_KEYS = ['type', 'pretrained', 'ignoreUnexpected', 'seed'];

/**
 * config.json content for `config`, as CLIPConfig.to_dict writes it: sub-configs tagged with their
 * own model_type, the model class in `architectures`.
 *
 * @example
 * hfConfigJson(model.config).architectures; // ['CLIPModel']
 */
export function hfConfigJson(config: ClipConfig): Record<string, unknown> {
  const out: Record<string, unknown> = { ...config };
  for (const key of RECIPE_KEYS) delete out[key];
  return {
    ...out,
    architectures: ['CLIPModel'],
    model_type: 'clip',
    text_config: { ...config.text_config, model_type: 'clip_text_model' },
    vision_config: { ...config.vision_config, model_type: 'clip_vision_model' },
    torch_dtype: 'float32',
    transformers_version: TRANSFORMERS_VERSION,
  };
}

/** Everything a CLIP checkpoint folder holds. */
export interface ClipCheckpointContents {
  root: ClipRoot;
  config: ClipConfig;
  /** Tokenizer files by name, written byte for byte. */
  tokenizerFiles?: ReadonlyMap<string, Uint8Array>;
  /** preprocessor_config.json as loaded; otherwise one is generated from `imageProcessing`. */
  preprocessor?: Record<string, unknown>;
  imageProcessing?: ImageProcessing;
}

/**
 * Saves `contents` to `dir`, replacing a model folder mmft wrote there as a whole; any other
 * non-empty folder is refused unless `options.force`.
 *
 * @example
 * await saveClipCheckpoint('out/clip', { root, config, tokenizerFiles });
 */
export async function saveClipCheckpoint(dir: string, contents: ClipCheckpointContents, options: SaveOptions = {}): Promise<void> {
  checkOutputFolder(dir, { kind: 'model', force: options.force, forceFlag: 'save(dir, { force: true })' });
  const weights = await tensorsFromModule(contents.root);
  // core's folder writer: staged copy, fsync, completion marker last, the old folder kept until
  // the new one is complete.
  await writeFolder(
    dir,
    async (temp) => {
      await writeFileDurable(join(temp, 'config.json'), hfJson(hfConfigJson(contents.config)));
      await writeSafetensors(join(temp, 'model.safetensors'), weights, { format: 'pt' });
      for (const [name, bytes] of contents.tokenizerFiles ?? []) await writeFileDurable(join(temp, name), bytes);
      const preprocessor = contents.preprocessor ?? (contents.imageProcessing ? imageProcessorJson(contents.imageProcessing) : undefined);
      if (preprocessor) await writeFileDurable(join(temp, 'preprocessor_config.json'), hfJson(preprocessor));
    },
    { kind: 'model' },
  );
}
