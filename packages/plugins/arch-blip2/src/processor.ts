// The processor of a BLIP-2 model (transformers' Blip2Processor, models/blip_2/processing_blip_2.py:
// BlipImageProcessor + the language model's tokenizer + num_query_tokens) and its towers. Images:
// preprocessor_config.json of BlipImageProcessor (models/blip/image_processing_blip.py: resize to
// size {height, width} bicubic, rescale 1/255, OpenAI CLIP mean/std). Text: with image_token_index
// set, num_query_tokens image tokens go in front of each tokenized text (after padding, so left
// padding sits between them and the text, as Blip2Processor.__call__ does); without it the text
// alone (the model prepends the queries).
import { MmftError, type ImageProcessing, type ModelProcessor, type ModelTowers, type TextTokenizer } from '@mmft/core';

/** OPENAI_CLIP_MEAN / OPENAI_CLIP_STD of transformers/utils/constants.py (BlipImageProcessor's defaults). */
export const OPENAI_CLIP_MEAN: readonly [number, number, number] = [0.48145466, 0.4578275, 0.40821073];
export const OPENAI_CLIP_STD: readonly [number, number, number] = [0.26862954, 0.26130258, 0.27577711];

/** HF Blip2ForConditionalGeneration parameter names by tower; every parameter is in exactly one. */
export const BLIP2_TOWERS: ModelTowers = {
  vision: ['vision_model.**'],
  qformer: ['qformer.**', 'query_tokens'],
  projector: ['language_projection.**'],
  language: ['language_model.**'],
};

type Json = Record<string, unknown>;

function sideOf(value: unknown, source: string): number | undefined {
  if (value === undefined || value === null) return undefined;
  if (typeof value === 'number' && Number.isInteger(value) && value > 0) return value;
  if (typeof value === 'object') {
    const v = value as { height?: unknown; width?: unknown; shortest_edge?: unknown };
    if (typeof v.height === 'number' && v.height === v.width) return v.height;
    if (typeof v.shortest_edge === 'number') return v.shortest_edge;
  }
  throw new MmftError(
    'E_CONFIG',
    `${source}: "size" must be a square {"height": n, "width": n} or a positive integer, got ${JSON.stringify(value)}`,
    {
      hint: 'BLIP-2 checkpoints resize to a square of vision_config.image_size',
    },
  );
}

function triple(value: unknown, field: string, fallback: readonly [number, number, number], source: string): [number, number, number] {
  if (value === undefined || value === null) return [...fallback];
  if (Array.isArray(value) && value.length === 3 && value.every((x) => typeof x === 'number')) return value as [number, number, number];
  throw new MmftError('E_CONFIG', `${source}: "${field}" must be a list of 3 numbers (one per RGB channel), got ${JSON.stringify(value)}`);
}

/**
 * ImageProcessing from a BlipImageProcessor preprocessor_config.json (or its defaults at `imageSize`).
 * BLIP resizes to the square without cropping; core's pipeline resizes the shortest edge and
 * center-crops, which is the same for square images.
 *
 * @example
 * parseBlipImageProcessing({ size: { height: 224, width: 224 } }, 224).size; // 224
 */
export function parseBlipImageProcessing(raw: Json | undefined, imageSize: number, source = 'preprocessor_config.json'): ImageProcessing {
  const size = sideOf(raw?.size, source) ?? imageSize;
  const mean = triple(raw?.image_mean, 'image_mean', OPENAI_CLIP_MEAN, source);
  const std = triple(raw?.image_std, 'image_std', OPENAI_CLIP_STD, source);
  if (std.some((s) => s <= 0)) throw new MmftError('E_CONFIG', `${source}: image_std must be positive, got [${std.join(', ')}]`);
  return { size, cropSize: size, mean, std };
}

/**
 * The preprocessor_config.json BlipImageProcessor.save_pretrained writes for `p`.
 *
 * @example
 * blipImageProcessorJson(model.imageProcessing).image_processor_type; // 'BlipImageProcessor'
 */
export function blipImageProcessorJson(p: ImageProcessing): Json {
  return {
    do_convert_rgb: true,
    do_normalize: true,
    do_rescale: true,
    do_resize: true,
    image_mean: [...p.mean],
    image_processor_type: 'BlipImageProcessor',
    image_std: [...p.std],
    processor_class: 'Blip2Processor',
    resample: 3,
    rescale_factor: 0.00392156862745098,
    size: { height: p.size, width: p.size },
  };
}

/**
 * @example
 * blip2Processor(processing, tokenizer).towers.qformer; // ['qformer.**', 'query_tokens']
 */
export function blip2Processor(
  imageProcessing: ImageProcessing,
  tokenizer: TextTokenizer | undefined,
  layout?: { imageTokenIndex: number | null; numQueryTokens: number },
): ModelProcessor {
  // Current layout: Blip2Processor writes num_query_tokens image tokens in front of the text; legacy: the model prepends the queries.
  const imageTokens =
    layout && layout.imageTokenIndex !== null
      ? { tokenId: layout.imageTokenIndex, count: layout.numQueryTokens, placement: 'prefix' as const }
      : undefined;
  return imageTokens
    ? { imageProcessing, tokenizer, towers: BLIP2_TOWERS, imageTokens }
    : { imageProcessing, tokenizer, towers: BLIP2_TOWERS };
}

/**
 * Blip2Processor's text half on already tokenized rows: `imageTokenIndex` set, `numQueryTokens`
 * image ids go in front of every row (mask 1 there); null, the rows are returned unchanged.
 *
 * @example
 * withImageTokens({ inputIds: [[2, 10]], attentionMask: [[1, 1]] }, 50265, 2); // [[50265, 50265, 2, 10]]
 */
export function withImageTokens(
  encoded: { inputIds: number[][]; attentionMask: number[][] },
  imageTokenIndex: number | null,
  numQueryTokens: number,
): { inputIds: number[][]; attentionMask: number[][] } {
  if (imageTokenIndex === null) return encoded;
  const images = new Array<number>(numQueryTokens).fill(imageTokenIndex);
  const ones = new Array<number>(numQueryTokens).fill(1);
  return {
    inputIds: encoded.inputIds.map((row) => [...images, ...row]),
    attentionMask: encoded.attentionMask.map((row) => [...ones, ...row]),
  };
}
