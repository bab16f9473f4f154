// Building and loading IdeficsForVisionText2Text (./idefics-for-vision-text2text.ts): the vision
// tower and the Llama through the registry joined into one tree as IdeficsModel.__init__
// (transformers src/transformers/models/idefics/modeling_idefics.py) does, the image preprocessing,
// and the weights of a folder loaded under the state-dict names.
import { join } from 'node:path';
import {
  isCausalLanguageModel,
  isVisionEncoderModel,
  MmftError,
  type ArchitectureContext,
  type CausalLanguageModel,
  type ImageProcessing,
  type LoadOptions,
  type VisionEncoderModel,
  type VisionLanguageModel,
} from '@mmft/core';
import { loadCausalLmFolder, loadCausalLmWeights, type LoadCausalLmWeightsResult } from '@mmft/core/lm';
import { deriveSeed, ModuleList, type AnyModule } from '@mmft/core/nn';
import { textConfigOf, visionConfigOf, type IdeficsConfigJson } from './config';
import { IdeficsGatedCrossAttentionLayer } from './gated-cross-attention';
import { joinDecoupled } from './decoupled';
import { IdeficsPerceiverResampler } from './perceiver';

const IGNORE_ON_LOAD = [/\.rotary_emb\.inv_freq$/, /\.position_ids$/];

/** The vision tower and the Llama through `context`, joined into one tree (IdeficsModel.__init__). */
export async function buildIdefics(
  config: IdeficsConfigJson,
  context: ArchitectureContext | undefined,
  source: string,
  seed?: number,
  tokenizer?: string,
): Promise<{ root: AnyModule; vision: VisionEncoderModel; lm: CausalLanguageModel }> {
  if (!context) {
    throw new MmftError(
      'E_CONFIG',
      `${source}: IDEFICS builds its vision tower and language model through the plugin registry, and none was given`,
      {
        hint: 'load it with AutoModel.fromPretrained(dir, { plugins }) or pass architectureContext(registry) as the context argument',
      },
    );
  }
  const parts: VisionLanguageModel[] = [];
  try {
    const seedOf = (salt: string) => (seed === undefined ? {} : { seed: deriveSeed(seed, salt) });
    const vision = await context
      .resolveModelType('clip_vision_model')
      .fromConfig({ config: visionConfigOf(config), ...seedOf('vision') }, context);
    parts.push(vision);
    if (!isVisionEncoderModel(vision)) throw new MmftError('E_CONFIG', `${source}: clip_vision_model is not built as a vision encoder`);
    const lm = await context
      .resolveModelType('llama')
      .fromConfig({ config: textConfigOf(config), ...seedOf('text'), ...(tokenizer ? { tokenizer } : {}) }, context);
    parts.push(lm);
    if (!isCausalLanguageModel(lm)) throw new MmftError('E_CONFIG', `${source}: llama is not built as a causal language model`);
    const root = lm.root;
    const decoder = root.child('model');
    const layers = decoder.child('layers');
    if (!(layers instanceof ModuleList)) {
      throw new MmftError('E_CONFIG', `${source}: the language model has no model.layers list to put the gated cross-attention before`);
    }
    decoder.registerModule('vision_model', vision.root.child('vision_model'));
    if (config.use_resampler) {
      const p = config.perceiver_config;
      decoder.registerModule(
        'perceiver_resampler',
        new IdeficsPerceiverResampler({
          embedDim: config.vision_config.embed_dim,
          depth: p.resampler_depth,
          numHeads: p.resampler_n_heads,
          headDim: p.resampler_head_dim,
          numLatents: p.resampler_n_latents,
          seed: deriveSeed(seed, 'perceiver_resampler'),
        }),
      );
    }
    const gated = new ModuleList();
    for (let j = 0; j < config.num_hidden_layers / config.cross_layer_interval; j++) {
      gated.append(new IdeficsGatedCrossAttentionLayer(config, deriveSeed(seed, `gated_cross_attn_layers.${j}`)));
    }
    decoder.registerModule('gated_cross_attn_layers', gated);
    return { root, vision, lm };
  } catch (error) {
    for (const part of parts) part.dispose();
    throw error;
  }
}

/** A 3-number list of preprocessor_config.json, or undefined when absent. */
function triple(preprocessor: Record<string, unknown>, key: string, source: string): [number, number, number] | undefined {
  const value = preprocessor[key];
  if (value === undefined) return undefined;
  if (!Array.isArray(value) || value.length !== 3 || !value.every((x) => typeof x === 'number' && Number.isFinite(x))) {
    throw new MmftError(
      'E_CHECKPOINT',
      `${source}: "${key}" must be a list of 3 numbers (one per RGB channel), got ${JSON.stringify(value)}`,
    );
  }
  return value as [number, number, number];
}

/**
 * Image preprocessing: IdeficsImageProcessor resizes to image_size square and normalises with
 * image_mean / image_std (src/transformers/models/idefics/image_processing_idefics.py), read from
 * the folder's preprocessor_config.json when given, else CLIP's mean and std.
 */
export function ideficsImageProcessing(
  config: IdeficsConfigJson,
  vision: VisionEncoderModel,
  preprocessor?: Record<string, unknown>,
  source = 'preprocessor_config.json',
): ImageProcessing {
  const own = vision.processor.imageProcessing;
  const given = preprocessor?.image_size;
  if (given !== undefined && (typeof given !== 'number' || !Number.isInteger(given) || given <= 0)) {
    throw new MmftError('E_CHECKPOINT', `${source}: "image_size" must be a positive integer, got ${JSON.stringify(given)}`);
  }
  const size = given ?? config.vision_config.image_size;
  return {
    size,
    cropSize: size,
    mean: (preprocessor && triple(preprocessor, 'image_mean', source)) ?? own?.mean ?? [0.48145466, 0.4578275, 0.40821073],
    std: (preprocessor && triple(preprocessor, 'image_std', source)) ?? own?.std ?? [0.26862954, 0.26130258, 0.27577711],
  };
}

/**
 * The tensors of a loaded folder into `root` (decoupled embeddings joined first). A missing,
 * mis-shaped or (without ignoreUnexpected) unknown tensor is an E_CHECKPOINT error naming it.
 */
export function loadIdeficsWeights(
  root: AnyModule,
  lm: CausalLanguageModel,
  config: IdeficsConfigJson,
  folder: Awaited<ReturnType<typeof loadCausalLmFolder>>,
  dir: string,
  options: LoadOptions,
): LoadCausalLmWeightsResult {
  const tensors = joinDecoupled(folder.tensors, config.additional_vocab_size, folder.files[0] ?? dir);
  return loadCausalLmWeights(root, tensors, {
    tied: { ...((lm as { tied?: Readonly<Record<string, string>> }).tied ?? {}) },
    ignoreUnexpected: options.ignoreUnexpected,
    ignorePatterns: IGNORE_ON_LOAD,
    tensorFiles: folder.tensorFiles,
    source: folder.files.length === 1 ? folder.files[0] : join(dir, 'model.safetensors.index.json'),
    modelName: 'IdeficsForVisionText2Text',
  });
}
