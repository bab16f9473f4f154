// The preprocessing options of a vision encoder, as a zod schema so recipes can carry them and
// every field is described (docs/conventions.md §7). Defaults reproduce HF CLIPImageProcessor
// (transformers models/clip/image_processing_clip.py): shortest edge 224, bicubic, centre crop 224,
// rescale 1/255, CLIP mean/std. Augmentation is off unless asked for.
import { z } from 'zod';
import { OPENAI_CLIP_MEAN, OPENAI_CLIP_STD } from './constants';

const rgb = z.tuple([z.number(), z.number(), z.number()]);
const range = (low: number, high: number) =>
  z
    .tuple([z.number().min(low).max(high), z.number().min(low).max(high)])
    .refine(([a, b]) => a <= b, 'range must be [low, high] with low <= high');

export const augmentSchema = z
  .object({
    randomResizedCrop: z
      .object({
        scale: range(0.01, 1).default([0.9, 1]).describe('Area fraction of the crop, [low, high] (open_clip trains CLIP with [0.9, 1])'),
        ratio: range(0.1, 10)
          .default([3 / 4, 4 / 3])
          .describe('Aspect-ratio range of the crop (log-uniform), torchvision default [3/4, 4/3]'),
      })
      .optional()
      .describe('Random resized crop instead of resize + centre crop (torchvision RandomResizedCrop, bicubic)'),
    colorJitter: z
      .object({
        brightness: z.number().min(0).default(0).describe('Brightness factor drawn from [max(0, 1-b), 1+b]'),
        contrast: z.number().min(0).default(0).describe('Contrast factor drawn from [max(0, 1-c), 1+c]'),
        saturation: z.number().min(0).default(0).describe('Saturation factor drawn from [max(0, 1-s), 1+s]'),
        hue: z.number().min(0).max(0.5).default(0).describe('Hue shift drawn from [-h, h] of a full turn'),
      })
      .optional()
      .describe(
        'Colour jitter (torchvision ColorJitter: the four ops in random order). Changes colours: do not use it when captions name colours',
      ),
    horizontalFlip: z
      .number()
      .min(0)
      .max(1)
      .default(0)
      .describe(
        'Probability of a horizontal flip. Off by default: flipping swaps "left" and "right", so it breaks captions and answers about position',
      ),
  })
  .describe('Training-time augmentation, seeded per image; off when absent');

export const preprocessOptionsSchema = z
  .object({
    size: z.number().int().positive().default(224).describe('Shortest edge after the bicubic resize (pixels)'),
    cropSize: z.number().int().positive().optional().describe('Side of the square centre crop; defaults to `size`, must not exceed it'),
    mean: rgb.default([...OPENAI_CLIP_MEAN]).describe('Per-channel RGB mean on the 0–1 scale (default: OpenAI CLIP)'),
    std: rgb.default([...OPENAI_CLIP_STD]).describe('Per-channel RGB std on the 0–1 scale (default: OpenAI CLIP)'),
    augment: augmentSchema.optional(),
  })
  .refine((o) => o.cropSize === undefined || o.cropSize <= o.size, {
    message: 'cropSize must be <= size (the crop is taken from the resized image)',
    path: ['cropSize'],
  })
  .refine((o) => o.std.every((s) => s > 0), { message: 'std values must be > 0', path: ['std'] })
  .describe('How images become model input: resize, crop, normalise, augment');

export type PreprocessOptionsInput = z.input<typeof preprocessOptionsSchema>;
export type PreprocessOptions = z.output<typeof preprocessOptionsSchema>;
export type AugmentOptions = z.output<typeof augmentSchema>;
