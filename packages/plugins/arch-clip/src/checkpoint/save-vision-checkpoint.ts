// Writes a CLIPVisionModel folder as transformers' CLIPVisionModel.save_pretrained lays it out:
// config.json (CLIPVisionConfig fields at the top level, architectures ["CLIPVisionModel"],
// model_type clip_vision_model), model.safetensors with `vision_model.*` in F32 and metadata
// {"format": "pt"}, and the CLIPImageProcessor's preprocessor_config.json, atomically.
import { join } from 'node:path';
import { checkOutputFolder, type ImageProcessing, type SaveOptions } from '@mmft/core';
import { hfJson } from '@mmft/core/hf';
import type { Module } from '@mmft/core/nn';
import { tensorsFromModule, writeFileDurable, writeFolder, writeSafetensors } from '@mmft/core/io';
import type { ClipVisionModelConfig } from '../config';
import { imageProcessorJson } from './preprocessor';
import { TRANSFORMERS_VERSION } from './save-checkpoint';

/** Keys of the recipe section that are not part of config.json. */
const RECIPE_KEYS = ['type', 'pretrained', 'ignoreUnexpected', 'seed'];

/**
 * config.json content for a CLIPVisionModel, as CLIPVisionConfig.to_dict writes it.
 *
 * @example
 * hfVisionConfigJson(model.config).architectures; // ['CLIPVisionModel']
 */
export function hfVisionConfigJson(config: ClipVisionModelConfig): Record<string, unknown> {
  const out: Record<string, unknown> = { ...config };
  for (const key of RECIPE_KEYS) delete out[key];
  return {
    ...out,
    architectures: ['CLIPVisionModel'],
    model_type: 'clip_vision_model',
    torch_dtype: 'float32',
    transformers_version: TRANSFORMERS_VERSION,
  };
}

/**
 * Saves a vision model to `dir`, replacing a model folder mmft wrote there as a whole; any other
 * non-empty folder is refused unless `options.force`.
 *
 * @example
 * await saveClipVisionCheckpoint('out/clip-vision', root, config, processing);
 */
export async function saveClipVisionCheckpoint(
  dir: string,
  root: Module,
  config: ClipVisionModelConfig,
  imageProcessing: ImageProcessing,
  preprocessor: Record<string, unknown> | undefined,
  options: SaveOptions = {},
): Promise<void> {
  checkOutputFolder(dir, { kind: 'model', force: options.force, forceFlag: 'save(dir, { force: true })' });
  const weights = await tensorsFromModule(root);
  await writeFolder(
    dir,
    async (temp) => {
      await writeFileDurable(join(temp, 'config.json'), hfJson(hfVisionConfigJson(config)));
      await writeSafetensors(join(temp, 'model.safetensors'), weights, { format: 'pt' });
      await writeFileDurable(join(temp, 'preprocessor_config.json'), hfJson(preprocessor ?? imageProcessorJson(imageProcessing)));
    },
    { kind: 'model' },
  );
}
