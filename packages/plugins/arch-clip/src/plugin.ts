// The architecture providers "clip" (ClipModel, model_type clip) and "clip-vision" (ClipVisionModel,
// model_type clip_vision_model): each builds its model from a recipe's `model:` section, from a
// checkpoint folder or from config fields, and names the model_type it handles for the
// model_type → factory table (docs/conventions.md §8).
import * as path from 'node:path';
import { ensureBackend, MmftError, parseConfig, type ArchitectureProvider } from '@mmft/core';
import { readTokenizerFiles } from '@mmft/core/hf';
import { clipSectionSchema, clipVisionSectionSchema, type ClipSectionConfig, type ClipVisionSectionConfig } from './config';
import { ClipModel } from './clip-model';
import { CLIP_MODEL_TYPES } from './checkpoint/parse-config';
import { CLIP_VISION_MODEL_TYPES } from './checkpoint/parse-vision-config';
import { ClipVisionModel } from './clip-vision-model';

/** The tokenizer files HF keeps beside tokenizer.json, read from a folder; tokenizer.json is required. */
async function readTokenizerFolder(dir: string): Promise<Map<string, Uint8Array>> {
  const files = await readTokenizerFiles(dir);
  if (!files.has('tokenizer.json')) {
    throw new MmftError('E_CONFIG', `model (clip): tokenizer folder ${dir} has no tokenizer.json`, {
      hint: 'point tokenizer: at a folder written by a Hugging Face tokenizer (save_pretrained)',
    });
  }
  return files;
}

/**
 * `model: { type: clip }` — HF CLIPModel (dual encoder).
 *
 * @example
 * const model = await clipArchitecture.fromPretrained('models/clip-shapes');
 */
export const clipArchitecture: ArchitectureProvider<ClipSectionConfig> = {
  kind: 'architecture',
  id: 'clip',
  description: 'CLIP dual encoder (transformers CLIPModel): HF checkpoints, ViT image tower, causal text tower, tokenizer.json',
  configSchema: clipSectionSchema,
  family: 'dual-encoder',
  modelTypes: CLIP_MODEL_TYPES,
  async fromConfig(raw) {
    const section = parseConfig(clipArchitecture, raw, 'model (clip)');
    await ensureBackend();
    if (section.checkpoint)
      return ClipModel.fromPretrained(path.resolve(section.checkpoint), { ignoreUnexpected: section.ignoreUnexpected });
    const tokenizerFiles = section.tokenizer ? await readTokenizerFolder(path.resolve(section.tokenizer)) : undefined;
    return ClipModel.fromConfig(section.config, { seed: section.seed, tokenizerFiles });
  },
  fromPretrained: (dir, options) => ClipModel.fromPretrained(dir, options),
};

/**
 * `model: { type: clip-vision }` — HF CLIPVisionModel (a vision encoder), also what a bridge gets
 * from `context.resolveModelType('clip_vision_model').fromConfig({ config: vision_config })`.
 *
 * @example
 * const tower = await clipVisionArchitecture.fromPretrained('models/clip-shapes-base'); // the vision side of a CLIPModel folder
 */
export const clipVisionArchitecture: ArchitectureProvider<ClipVisionSectionConfig> = {
  kind: 'architecture',
  id: 'clip-vision',
  description:
    'CLIP vision tower (transformers CLIPVisionModel): hidden states for bridges such as LLaVA; loads CLIPVisionModel or CLIPModel folders',
  configSchema: clipVisionSectionSchema,
  family: 'vision-encoder',
  modelTypes: CLIP_VISION_MODEL_TYPES,
  async fromConfig(raw) {
    const section = parseConfig(clipVisionArchitecture, raw, 'model (clip-vision)');
    if (section.tokenizer) {
      throw new MmftError('E_CONFIG', 'model (clip-vision): a CLIP vision tower has no tokenizer; remove "tokenizer"', {
        hint: 'give checkpoint (a CLIPVisionModel or CLIPModel folder) or config (CLIPVisionConfig fields)',
      });
    }
    await ensureBackend();
    if (section.checkpoint)
      return ClipVisionModel.fromPretrained(path.resolve(section.checkpoint), { ignoreUnexpected: section.ignoreUnexpected });
    return ClipVisionModel.fromConfig(section.config, { seed: section.seed });
  },
  fromPretrained: (dir, options) => ClipVisionModel.fromPretrained(dir, options),
};
