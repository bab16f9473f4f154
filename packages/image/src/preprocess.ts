// One image → normalised float32 CHW, the way HF CLIPImageProcessor does it
// (transformers models/clip/image_processing_clip.py: convert_to_rgb, resize shortest edge with
// bicubic, center_crop, rescale 1/255, normalize), or, with augmentation, open_clip's training
// transform (open_clip/transform.py: RandomResizedCrop bicubic, optional jitter) plus a flip.
import type { Sharp } from 'sharp';
import { applyJitter, sampleJitter, type JitterOp } from './color-jitter';
import { decodeError, openImage, type ImageInput } from './decode';
import { centerCropBox, randomResizedCropBox, shortestEdgeSize } from './geometry';
import { preprocessOptionsSchema, type PreprocessOptions, type PreprocessOptionsInput } from './options';
import { SeededRng } from './rng';

/** A preprocessed image: float32 CHW with its shape. */
export interface PreprocessedImage {
  readonly data: Float32Array;
  readonly shape: readonly [3, number, number];
}

async function geometry(
  image: Sharp,
  options: PreprocessOptions,
  rng: SeededRng | undefined,
): Promise<{ image: Sharp; jitter: JitterOp[] }> {
  const crop = options.cropSize ?? options.size;
  const { width, height } = await image.metadata();
  const rrc = options.augment?.randomResizedCrop;
  if (rng && rrc) {
    // sharp runs extract-before-resize when extract is chained first
    image.extract(randomResizedCropBox(width, height, rng, rrc.scale, rrc.ratio)).resize(crop, crop, { kernel: 'cubic', fit: 'fill' });
  } else {
    const resized = shortestEdgeSize(width, height, options.size);
    image
      .resize(resized.width, resized.height, { kernel: 'cubic', fit: 'fill' })
      .extract(centerCropBox(resized.width, resized.height, crop));
  }
  // Draw in a fixed order (crop, flip, jitter) so a seed always means the same augmentation.
  if (rng && rng.float() < (options.augment?.horizontalFlip ?? 0)) image.flop();
  const jitter = rng && options.augment?.colorJitter ? sampleJitter(rng, options.augment.colorJitter) : [];
  return { image, jitter };
}

/**
 * Preprocess with options already validated by `preprocessOptionsSchema` (the worker's path).
 * `seed` only matters when `options.augment` is set.
 */
export async function preprocessResolved(input: ImageInput, options: PreprocessOptions, seed = 0): Promise<PreprocessedImage> {
  let pixels: Buffer;
  let side: number;
  let jitter: JitterOp[];
  try {
    const rng = options.augment ? new SeededRng(seed) : undefined;
    const planned = await geometry(openImage(input), options, rng);
    jitter = planned.jitter;
    const { data, info } = await planned.image.removeAlpha().raw().toBuffer({ resolveWithObject: true });
    pixels = data;
    side = info.width;
  } catch (error) {
    throw decodeError(input, error);
  }
  const plane = side * side;
  const out = new Float32Array(3 * plane);
  const [m0, m1, m2] = options.mean;
  const [s0, s1, s2] = options.std;
  if (jitter.length > 0) {
    const hwc = new Float32Array(pixels.length);
    for (let i = 0; i < pixels.length; i++) hwc[i] = (pixels[i] as number) / 255;
    applyJitter(hwc, jitter);
    for (let i = 0, p = 0; p < plane; p++, i += 3) {
      out[p] = ((hwc[i] as number) - m0) / s0;
      out[plane + p] = ((hwc[i + 1] as number) - m1) / s1;
      out[2 * plane + p] = ((hwc[i + 2] as number) - m2) / s2;
    }
  } else {
    // HWC uint8 → CHW float in one pass: (x/255 - mean) / std
    for (let i = 0, p = 0; p < plane; p++, i += 3) {
      out[p] = ((pixels[i] as number) / 255 - m0) / s0;
      out[plane + p] = ((pixels[i + 1] as number) / 255 - m1) / s1;
      out[2 * plane + p] = ((pixels[i + 2] as number) / 255 - m2) / s2;
    }
  }
  return { data: out, shape: [3, side, side] };
}

/**
 * Decode, resize, crop and normalise one image to float32 CHW (CLIP defaults: 224 px, CLIP mean/std).
 *
 * @example
 * const { data, shape } = await preprocess('cat.jpg', { size: 224 }); // shape [3, 224, 224]
 * const aug = await preprocess(bytes, { size: 64, augment: { horizontalFlip: 0.5 }, seed: 7 });
 */
export async function preprocess(input: ImageInput, options: PreprocessOptionsInput & { seed?: number } = {}): Promise<PreprocessedImage> {
  const { seed, ...rest } = options;
  return preprocessResolved(input, preprocessOptionsSchema.parse(rest), seed ?? 0);
}
