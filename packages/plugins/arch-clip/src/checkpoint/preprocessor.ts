// preprocessor_config.json of a CLIP checkpoint ↔ the ImageProcessing contract. Reads both layouts
// transformers has written (size/crop_size as ints before 4.26, as {shortest_edge} / {height, width}
// after); defaults are CLIPImageProcessor's (transformers/models/clip/image_processing_clip.py).
import { MmftError, type ImageProcessing } from '@mmft/core';

/** OPENAI_CLIP_MEAN / OPENAI_CLIP_STD of transformers/utils/constants.py. */
export const OPENAI_CLIP_MEAN: readonly [number, number, number] = [0.48145466, 0.4578275, 0.40821073];
export const OPENAI_CLIP_STD: readonly [number, number, number] = [0.26862954, 0.26130258, 0.27577711];

type Json = Record<string, unknown>;

function sideOf(value: unknown, field: string, source: string): number | undefined {
  if (value === undefined || value === null) return undefined;
  if (typeof value === 'number' && Number.isInteger(value) && value > 0) return value;
  if (typeof value === 'object') {
    const v = value as { shortest_edge?: unknown; height?: unknown; width?: unknown };
    if (typeof v.shortest_edge === 'number') return v.shortest_edge;
    // CLIP crops squares; a non-square {height, width} cannot be expressed by ImageProcessing.
    if (typeof v.height === 'number' && v.height === v.width) return v.height;
  }
  throw new MmftError(
    'E_CONFIG',
    `${source}: "${field}" must be a positive integer, {"shortest_edge": n} or a square {"height": n, "width": n}; got ${JSON.stringify(value)}`,
  );
}

function triple(value: unknown, field: string, fallback: readonly [number, number, number], source: string): [number, number, number] {
  if (value === undefined || value === null) return [...fallback];
  if (Array.isArray(value) && value.length === 3 && value.every((x) => typeof x === 'number')) return value as [number, number, number];
  throw new MmftError('E_CONFIG', `${source}: "${field}" must be a list of 3 numbers (one per RGB channel), got ${JSON.stringify(value)}`);
}

/**
 * ImageProcessing from a parsed preprocessor_config.json; without one, CLIPImageProcessor's
 * defaults at the model's `imageSize` (resize shortest edge, center crop, OpenAI mean/std).
 *
 * @example
 * parseImageProcessing({ size: { shortest_edge: 224 }, crop_size: { height: 224, width: 224 } }, 224);
 */
export function parseImageProcessing(raw: Json | undefined, imageSize: number, source = 'preprocessor_config.json'): ImageProcessing {
  const size = sideOf(raw?.size, 'size', source) ?? imageSize;
  const cropSize = sideOf(raw?.crop_size, 'crop_size', source) ?? (raw?.size === undefined ? imageSize : size);
  const mean = triple(raw?.image_mean, 'image_mean', OPENAI_CLIP_MEAN, source);
  const std = triple(raw?.image_std, 'image_std', OPENAI_CLIP_STD, source);
  if (std.some((s) => s <= 0)) throw new MmftError('E_CONFIG', `${source}: image_std must be positive, got [${std.join(', ')}]`);
  return { size, cropSize, mean, std };
}

/**
 * The preprocessor_config.json transformers' CLIPImageProcessor.save_pretrained writes for `p`.
 *
 * @example
 * fs.writeFileSync('preprocessor_config.json', JSON.stringify(imageProcessorJson(p), null, 2));
 */
export function imageProcessorJson(p: ImageProcessing): Json {
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
    resample: 3,
    rescale_factor: 0.00392156862745098,
    size: { shortest_edge: p.size },
  };
}
