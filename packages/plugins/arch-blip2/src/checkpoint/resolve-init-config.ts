// The Blip2Config of a model composed from `init:` parts: each part folder's sub-config
// (vision_config from a CLIP or BLIP-2 folder, qformer_config from a BLIP-2 folder, text_config
// from the causal LM's config.json) under the section's explicit fields: the three sub-configs of
// transformers' Blip2Config (src/transformers/models/blip_2/configuration_blip_2.py).
import { MmftError, type ImageProcessing } from '@mmft/core';
import { readHfFolder, type HfFolder } from '@mmft/core/hf';
import type { Blip2ConfigInput } from '../config';
import { parseBlipImageProcessing } from '../processor';
import { blip2VisionConfigFromClip } from './clip-vision-config';
import type { Blip2Init, Blip2InitPlan } from './init-schema';
import { CLIP_TYPES, FILE_FIELDS, isRecord, partType, subConfig, withoutFields, type Json } from './part-folders';

/**
 * A Blip2Config for a model composed from `init`: vision_config from the vision folder (CLIP via
 * `blip2VisionConfigFromClip`), qformer_config and num_query_tokens from the Q-Former folder
 * (never its encoder_hidden_size, forced to the vision width, nor use_qformer_text_input, which
 * stays the section's: a captioning model has no text feed-forward), text_config from the
 * language model's config.json. Fields written in `config` win. Pass `config` as the recipe wrote
 * it, before the schema fills defaults (num_query_tokens 32, text_config.model_type opt), or
 * those defaults hide what the parts say.
 *
 * @example
 * const plan = await resolveBlip2Config(rawSection.config, section.init, { tokenizer: section.tokenizer });
 * const model = await Blip2ForConditionalGeneration.fromConfig(plan.config, context, { seed, tokenizer: plan.tokenizer, imageProcessing: plan.imageProcessing });
 * await applyBlip2Init(model, section.init, context);
 */
export async function resolveBlip2Config(
  config: Json | undefined,
  init: Blip2Init,
  options: { tokenizer?: string } = {},
): Promise<Blip2InitPlan> {
  const given: Json = config ?? {};
  for (const name of ['vision_config', 'qformer_config', 'text_config']) {
    if (given[name] !== undefined && !isRecord(given[name])) throw new MmftError('E_CONFIG', `model.config.${name} must be an object`);
  }
  const out: Json = { ...given };
  let visionFolder: HfFolder | undefined;
  if (init.vision) {
    visionFolder = await readHfFolder(init.vision, { modelName: 'CLIP or BLIP-2' });
    const type = partType(visionFolder, 'vision', [...CLIP_TYPES, 'blip-2']);
    const base =
      type === 'blip-2'
        ? withoutFields(subConfig(visionFolder, 'vision_config'), ['model_type', ...FILE_FIELDS])
        : blip2VisionConfigFromClip(visionFolder.config, `${init.vision}/config.json`);
    out.vision_config = { ...base, ...(given.vision_config as Json | undefined) };
  }
  if (init.qformer) {
    const folder = await readHfFolder(init.qformer, { modelName: 'BLIP-2' });
    partType(folder, 'qformer', ['blip-2']);
    const base = withoutFields(subConfig(folder, 'qformer_config'), [
      'model_type',
      'encoder_hidden_size',
      'use_qformer_text_input',
      ...FILE_FIELDS,
    ]);
    out.qformer_config = { ...base, ...(given.qformer_config as Json | undefined) };
    if (given.num_query_tokens === undefined && folder.config.num_query_tokens !== undefined)
      out.num_query_tokens = folder.config.num_query_tokens;
  }
  if (init.language_model) {
    const folder = await readHfFolder(init.language_model, { modelName: 'causal language model' });
    const type = partType(folder, 'language_model', undefined);
    const explicit = given.text_config as Json | undefined;
    if (explicit?.model_type !== undefined && explicit.model_type !== type) {
      throw new MmftError(
        'E_CONFIG',
        `model.config.text_config.model_type is ${JSON.stringify(explicit.model_type)} but init.language_model (${init.language_model}) holds a "${type}" model`,
        { hint: 'leave text_config.model_type out: it comes from the language model folder' },
      );
    }
    out.text_config = { ...withoutFields(folder.config, FILE_FIELDS), ...explicit };
  }
  let imageProcessing: ImageProcessing | undefined;
  if (visionFolder?.preprocessor) {
    const vision = out.vision_config as Json;
    const size = typeof vision.image_size === 'number' ? vision.image_size : 224;
    const { image_mean, image_std } = visionFolder.preprocessor;
    // BLIP-2 resizes to the square of image_size (BlipImageProcessor); only the normalisation comes from CLIP's processor.
    imageProcessing = parseBlipImageProcessing({ image_mean, image_std }, size, `${init.vision}/preprocessor_config.json`);
  }
  const tokenizer = options.tokenizer ?? init.language_model;
  return {
    config: out as Blip2ConfigInput,
    ...(tokenizer ? { tokenizer } : {}),
    ...(imageProcessing ? { imageProcessing } : {}),
  };
}
