// A fresh LLaVA composed from part folders, as LLaVA's own training builds one from a CLIP vision
// tower and a causal LM with a new projector (haotian-liu/LLaVA llava/model/llava_arch.py
// initialize_vision_modules; the llava-hf conversion script
// src/transformers/models/llava/convert_llava_weights_to_hf.py for the `<image>` token). The parts
// are loaded through the plugins of their model_type, so each family's key names apply; the
// LlavaConfig takes vision_config and text_config from them under the section's explicit fields
// (the pattern of packages/plugins/arch-blip2/src/checkpoint/resolve-init-config.ts).
import * as tf from '@tensorflow/tfjs-core';
import { isCausalLanguageModel, isVisionEncoderModel, MmftError, type ArchitectureContext, type VisionLanguageModel } from '@mmft/core';
import { appendMeanRows, findTokenId, readHfFolder, readTokenizerFiles, withAddedSpecialToken } from '@mmft/core/hf';
import type { LlavaConfigInput } from './config';
import type { LlavaInit } from './init-schema';
import { IMAGE_TOKEN } from './image-token';
import { LlavaForConditionalGeneration } from './llava-for-conditional-generation';

/** What `composeLlava` did, per part. */
export interface LlavaComposeReport {
  readonly vision?: { readonly dir: string; readonly copied: number };
  readonly languageModel?: {
    readonly dir: string;
    readonly copied: number;
    /** `<image>`'s id and whether it was added (tokenizer and embeddings grown by one row). */
    readonly imageToken?: { readonly id: number; readonly added: boolean };
  };
}

const FILE_FIELDS = ['architectures', 'torch_dtype', 'transformers_version', '_name_or_path'];
type Json = Record<string, unknown>;
const isRecord = (v: unknown): v is Json => typeof v === 'object' && v !== null && !Array.isArray(v);
const without = (config: Json, fields: readonly string[]) =>
  Object.fromEntries(Object.entries(config).filter(([k]) => !fields.includes(k)));
const shapeText = (shape: readonly number[]) => `[${shape.join(', ')}]`;

interface Write {
  readonly from: string;
  readonly shape: readonly number[];
  readonly data: Float32Array;
}

/** The vision_config of a CLIP or CLIPVisionModel folder. */
function visionConfigOf(config: Json, modelType: string | undefined, dir: string): Json {
  if (modelType === 'clip') {
    const vision = config.vision_config ?? {};
    if (!isRecord(vision)) throw new MmftError('E_CONFIG', `${dir}/config.json: vision_config must be an object`);
    return { ...without(vision, FILE_FIELDS), model_type: 'clip_vision_model' };
  }
  if (modelType === 'clip_vision_model') return without(config, FILE_FIELDS);
  throw new MmftError(
    'E_CONFIG',
    `init.vision: ${dir}/config.json has model_type ${JSON.stringify(modelType)}; init.vision takes clip or clip_vision_model`,
    {
      hint: 'give a CLIP folder (CLIPModel) or a CLIPVisionModel folder',
    },
  );
}

async function loadPart(
  context: ArchitectureContext,
  modelType: string,
  dir: string,
  field: 'vision' | 'language_model',
): Promise<VisionLanguageModel> {
  const loaded = await context.resolveModelType(modelType).fromPretrained(dir, {}, context);
  const ok = field === 'vision' ? isVisionEncoderModel(loaded) : isCausalLanguageModel(loaded);
  if (!ok) {
    loaded.dispose();
    throw new MmftError('E_CONFIG', `init.${field}: ${dir} loads as a "${loaded.modelType}" ${loaded.family} model`, {
      hint: field === 'vision' ? 'give a CLIP vision tower folder' : 'give a causal-LM folder (llama, opt, gpt2, ...)',
    });
  }
  return loaded;
}

/**
 * Builds a fresh LLaVA (projector newly initialised) whose vision tower and language model are
 * the `init` folders'. `config` is the section's `config:` as written (before LlavaConfig's
 * defaults, which would hide what the parts say); its explicit fields win over the parts'.
 * When the language model's tokenizer has no `<image>` and `config.image_token_index` is not
 * given, `<image>` is added as a special token of id text vocab_size, the embeddings (and an
 * untied lm_head and its bias) grow by one row, the old rows' mean, and text_config.vocab_size
 * grows by one. A tensor whose shape then disagrees is an E_CHECKPOINT error naming it; the
 * model is disposed on any failure.
 *
 * @example
 * const { model, report } = await composeLlava({}, { vision: 'models/clip-shapes-base', language_model: 'models/llama-shapes-base' }, context);
 * report.languageModel?.imageToken; // { id: 654, added: true }
 */
export async function composeLlava(
  config: Json | undefined,
  init: LlavaInit,
  context: ArchitectureContext | undefined,
  options: { seed?: number; tokenizer?: string } = {},
): Promise<{ model: LlavaForConditionalGeneration; report: LlavaComposeReport }> {
  if (!context) {
    throw new MmftError('E_CONFIG', 'model (llava) init: the parts load through the plugin registry, and none was given', {
      hint: 'pass architectureContext(registry) as the context argument',
    });
  }
  const given: Json = { ...(config ?? {}) };
  for (const name of ['vision_config', 'text_config']) {
    if (given[name] !== undefined && !isRecord(given[name])) throw new MmftError('E_CONFIG', `model.config.${name} must be an object`);
  }
  const out: Json = { ...given };
  const parts: VisionLanguageModel[] = [];
  try {
    let vision: VisionLanguageModel | undefined;
    if (init.vision) {
      const folder = await readHfFolder(init.vision, { modelName: 'CLIP' });
      const visionConfig = {
        ...visionConfigOf(folder.config, folder.modelType, init.vision),
        ...(given.vision_config as Json | undefined),
      };
      out.vision_config = visionConfig;
      vision = await loadPart(context, visionConfig.model_type as string, init.vision, 'vision');
      parts.push(vision);
    }
    let lm: VisionLanguageModel | undefined;
    let tokenizerFiles: Map<string, Uint8Array> | undefined;
    let imageToken: { id: number; added: boolean } | undefined;
    let oldVocab = 0;
    if (init.language_model) {
      const dir = init.language_model;
      const folder = await readHfFolder(dir, { modelName: 'causal language model' });
      const explicit = given.text_config as Json | undefined;
      if (typeof folder.modelType !== 'string') {
        throw new MmftError('E_CONFIG', `init.language_model: ${dir}/config.json has no model_type`, {
          hint: 'give a folder with config.json (model_type llama, opt, gpt2, ...) and model.safetensors',
        });
      }
      if (explicit?.model_type !== undefined && explicit.model_type !== folder.modelType) {
        throw new MmftError(
          'E_CONFIG',
          `model.config.text_config.model_type is ${JSON.stringify(explicit.model_type)} but init.language_model (${dir}) holds a "${folder.modelType}" model`,
          { hint: 'leave text_config.model_type out: it comes from the language model folder' },
        );
      }
      const textConfig: Json = { ...without(folder.config, FILE_FIELDS), ...explicit };
      lm = await loadPart(context, folder.modelType, dir, 'language_model');
      parts.push(lm);
      const vocab = (lm as { config?: Json }).config?.vocab_size ?? textConfig.vocab_size;
      if (typeof vocab !== 'number') throw new MmftError('E_CONFIG', `init.language_model: ${dir}/config.json has no vocab_size`);
      oldVocab = vocab;
      tokenizerFiles = await readTokenizerFiles(options.tokenizer ?? dir);
      const tokenizerJson = tokenizerFiles.get('tokenizer.json');
      if (given.image_token_index === undefined && given.image_token_id === undefined && tokenizerJson) {
        const found = findTokenId(tokenizerJson, IMAGE_TOKEN, `${options.tokenizer ?? dir}/tokenizer.json`);
        if (found.id !== undefined) imageToken = { id: found.id, added: false };
        else {
          if (found.maxId >= oldVocab) {
            throw new MmftError(
              'E_CONFIG',
              `init.language_model: the tokenizer uses ids up to ${found.maxId} but ${dir} has ${oldVocab} embedding rows; cannot add ${IMAGE_TOKEN} at id ${oldVocab}`,
              {
                hint: `set model.config.image_token_index to an id whose embedding row exists, or use a tokenizer that has ${IMAGE_TOKEN}`,
              },
            );
          }
          imageToken = { id: oldVocab, added: true };
          tokenizerFiles = withAddedSpecialToken(tokenizerFiles, IMAGE_TOKEN, oldVocab);
          textConfig.vocab_size = oldVocab + 1;
        }
        out.image_token_index = imageToken.id;
      }
      out.text_config = textConfig;
    }
    const model = await LlavaForConditionalGeneration.fromConfig(out as LlavaConfigInput, context, {
      seed: options.seed,
      tokenizer: options.tokenizer ?? init.language_model,
      imageProcessing: vision?.processor.imageProcessing,
      tokenizerFiles,
    });
    try {
      const variables = model.root.stateDict();
      const writes = new Map<string, Write>();
      const report: { vision?: LlavaComposeReport['vision']; languageModel?: LlavaComposeReport['languageModel'] } = {};
      if (vision) {
        const source = vision.root.stateDict();
        for (const [name, v] of source)
          writes.set(`vision_tower.${name}`, { from: name, shape: v.shape, data: v.dataSync() as Float32Array });
        report.vision = { dir: init.vision!, copied: source.size };
      }
      if (lm) {
        const source = lm.root.stateDict();
        for (const [name, v] of source) {
          const target = variables.get(`language_model.${name}`);
          let data = v.dataSync() as Float32Array;
          let shape = v.shape;
          // The rows a vocabulary-sized tensor (embeddings, untied head, its bias) gains for <image>.
          if (imageToken?.added && target && shape[0] === oldVocab && target.shape[0] === oldVocab + 1) {
            data = appendMeanRows(data, oldVocab, 1);
            shape = [oldVocab + 1, ...shape.slice(1)];
          }
          writes.set(`language_model.${name}`, { from: name, shape, data });
        }
        report.languageModel = { dir: init.language_model!, copied: source.size, ...(imageToken ? { imageToken } : {}) };
      }
      for (const [name, w] of writes) {
        const variable = variables.get(name);
        const part = name.startsWith('vision_tower.') ? init.vision : init.language_model;
        if (!variable) throw new MmftError('E_CHECKPOINT', `${part}: ${w.from} maps to ${name}, which this LLaVA does not have`);
        if (variable.shape.length !== w.shape.length || variable.shape.some((d, i) => d !== w.shape[i])) {
          throw new MmftError(
            'E_CHECKPOINT',
            `${part}: ${w.from} has shape ${shapeText(w.shape)} but ${name} of this LLaVA is ${shapeText(variable.shape)}`,
            {
              hint: 'leave the shape fields (hidden_size, image_size, vocab_size, ...) out of model.config so they come from the part folders',
            },
          );
        }
      }
      for (const [name, w] of writes) {
        const variable = variables.get(name)!;
        tf.tidy(() => variable.assign(tf.tensor(w.data, [...w.shape], 'float32')));
      }
      return { model, report };
    } catch (error) {
      model.dispose();
      throw error;
    }
  } finally {
    for (const part of parts) part.dispose();
  }
}
