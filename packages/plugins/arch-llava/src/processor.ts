// The processor of a LLaVA model (transformers' LlavaProcessor, src/transformers/models/llava/
// processing_llava.py): the vision tower's image processing (CLIPImageProcessor's
// preprocessor_config.json), the language model's tokenizer, and the image span: every `<image>` in
// the text becomes num_image_tokens copies of image_token_index, num_image_tokens =
// (image_size / patch_size)² + num_additional_image_tokens (1 for a class token), minus 1 with the
// 'default' strategy (which drops position 0 of the features).
import { MmftError, type ImageProcessing, type ModelProcessor, type ModelTowers, type TextTokenizer } from '@mmft/core';

/** HF LlavaForConditionalGeneration (Hub layout) parameter names by tower; every parameter is in exactly one. */
export const LLAVA_TOWERS: ModelTowers = {
  vision: ['vision_tower.**'],
  projector: ['multi_modal_projector.**'],
  language: ['language_model.**'],
};

/** OPENAI_CLIP_MEAN / OPENAI_CLIP_STD of transformers/utils/constants.py (CLIPImageProcessor's defaults). */
const CLIP_MEAN: readonly [number, number, number] = [0.48145466, 0.4578275, 0.40821073];
const CLIP_STD: readonly [number, number, number] = [0.26862954, 0.26130258, 0.27577711];

type Json = Record<string, unknown>;

/**
 * Image features per image the language model reads, i.e. `<image>` expansion length.
 *
 * @example
 * numImageTokens({ imageSize: 336, patchSize: 14, hasClassToken: true }, 'default'); // 576
 */
export function numImageTokens(
  tower: { readonly imageSize: number; readonly patchSize: number; readonly hasClassToken: boolean },
  strategy: 'default' | 'full',
): number {
  const patches = Math.floor(tower.imageSize / tower.patchSize) ** 2;
  return patches + (tower.hasClassToken ? 1 : 0) - (strategy === 'default' ? 1 : 0);
}

function side(value: unknown, field: string, source: string): number | undefined {
  if (value === undefined || value === null) return undefined;
  if (typeof value === 'number' && Number.isInteger(value) && value > 0) return value;
  const v = value as { shortest_edge?: unknown; height?: unknown; width?: unknown };
  if (typeof v === 'object' && typeof v.shortest_edge === 'number') return v.shortest_edge;
  if (typeof v === 'object' && typeof v.height === 'number' && v.height === v.width) return v.height;
  throw new MmftError(
    'E_CONFIG',
    `${source}: "${field}" must be an integer, {"shortest_edge": n} or a square {"height": n, "width": n}; got ${JSON.stringify(value)}`,
  );
}

function triple(value: unknown, field: string, fallback: readonly [number, number, number], source: string): [number, number, number] {
  if (value === undefined || value === null) return [...fallback];
  if (Array.isArray(value) && value.length === 3 && value.every((x) => typeof x === 'number')) return value as [number, number, number];
  throw new MmftError('E_CONFIG', `${source}: "${field}" must be a list of 3 numbers (one per RGB channel), got ${JSON.stringify(value)}`);
}

/**
 * ImageProcessing from a CLIPImageProcessor preprocessor_config.json; absent, `fallback` (the tower's own).
 *
 * @example
 * parseLlavaImageProcessing({ size: { shortest_edge: 336 }, crop_size: { height: 336, width: 336 } }, tower.processor.imageProcessing);
 */
export function parseLlavaImageProcessing(
  raw: Json | undefined,
  fallback: ImageProcessing,
  source = 'preprocessor_config.json',
): ImageProcessing {
  if (!raw) return fallback;
  const size = side(raw.size, 'size', source) ?? fallback.size;
  const cropSize = side(raw.crop_size, 'crop_size', source) ?? size;
  const mean = triple(raw.image_mean, 'image_mean', CLIP_MEAN, source);
  const std = triple(raw.image_std, 'image_std', CLIP_STD, source);
  if (std.some((s) => s <= 0)) throw new MmftError('E_CONFIG', `${source}: image_std must be positive, got [${std.join(', ')}]`);
  return { size, cropSize, mean, std };
}

/** The preprocessor_config.json CLIPImageProcessor.save_pretrained writes for `p` (processor_class LlavaProcessor). */
export function llavaImageProcessorJson(p: ImageProcessing): Json {
  return {
    crop_size: { height: p.cropSize, width: p.cropSize },
    do_center_crop: true,
    do_convert_rgb: true,
    do_normalize: true,
    do_rescale: true,
    do_resize: true,
    image_mean: [...p.mean],
    image_processor_type: 'CLIPImageProcessor',
    image_std: [...p.std],
    processor_class: 'LlavaProcessor',
    resample: 3,
    rescale_factor: 0.00392156862745098,
    size: { shortest_edge: p.size },
  };
}

/**
 * @example
 * llavaProcessor(processing, tokenizer, 32000, 576).imageTokens; // { tokenId: 32000, count: 576, placement: 'placeholder' }
 */
export function llavaProcessor(
  imageProcessing: ImageProcessing,
  tokenizer: TextTokenizer | undefined,
  imageTokenIndex: number,
  count: number,
  chatTemplate?: string,
): ModelProcessor {
  const imageTokens = { tokenId: imageTokenIndex, count, placement: 'placeholder' as const };
  return chatTemplate !== undefined
    ? { imageProcessing, tokenizer, towers: LLAVA_TOWERS, imageTokens, chatTemplate }
    : { imageProcessing, tokenizer, towers: LLAVA_TOWERS, imageTokens };
}

/**
 * LlavaProcessor's text half on token ids: each `imageTokenIndex` in a row becomes `count` copies
 * (one `<image>` mark per image); rows are then right-padded with `padId` (mask 0).
 *
 * @example
 * expandImageTokens([[1, 9, 5]], 9, 3, 0).inputIds; // [[1, 9, 9, 9, 5]]
 */
export function expandImageTokens(rows: readonly (readonly number[])[], imageTokenIndex: number, count: number, padId = 0) {
  const expanded = rows.map((row) => row.flatMap((id) => (id === imageTokenIndex ? new Array<number>(count).fill(id) : [id])));
  const width = Math.max(0, ...expanded.map((r) => r.length));
  return {
    inputIds: expanded.map((r) => [...r, ...new Array<number>(width - r.length).fill(padId)]),
    attentionMask: expanded.map((r) => [...new Array<number>(r.length).fill(1), ...new Array<number>(width - r.length).fill(0)]),
  };
}
