// Crop and resize geometry, kept pure so it can be tested without images. Shortest-edge resize and
// centre crop follow transformers (image_transforms.py get_resize_output_image_size with
// default_to_square=False, center_crop); the random resized crop follows torchvision
// (transforms/transforms.py RandomResizedCrop.get_params: 10 tries, then a centre crop).
import type { SeededRng } from './rng';

export interface Box {
  readonly left: number;
  readonly top: number;
  readonly width: number;
  readonly height: number;
}

/**
 * Output size when the shortest edge is resized to `size`, the long edge keeping the aspect
 * ratio (truncated, as transformers does).
 *
 * @example
 * shortestEdgeSize(640, 480, 224); // { width: 298, height: 224 }
 */
export function shortestEdgeSize(width: number, height: number, size: number): { width: number; height: number } {
  if (width <= height) return { width: size, height: Math.trunc((size * height) / width) };
  return { width: Math.trunc((size * width) / height), height: size };
}

/** The centred `cropWidth × cropHeight` box (offsets floored, as transformers' center_crop). */
export function centerCropBox(width: number, height: number, cropWidth: number, cropHeight = cropWidth): Box {
  return { left: Math.floor((width - cropWidth) / 2), top: Math.floor((height - cropHeight) / 2), width: cropWidth, height: cropHeight };
}

/**
 * torchvision's RandomResizedCrop box: area fraction in `scale`, aspect ratio log-uniform in `ratio`.
 *
 * @example
 * randomResizedCropBox(64, 64, new SeededRng(1), [0.9, 1], [3 / 4, 4 / 3]);
 */
export function randomResizedCropBox(
  width: number,
  height: number,
  rng: SeededRng,
  scale: readonly [number, number],
  ratio: readonly [number, number],
): Box {
  const area = width * height;
  const logRatio = [Math.log(ratio[0]), Math.log(ratio[1])] as const;
  for (let attempt = 0; attempt < 10; attempt++) {
    const targetArea = area * rng.uniform(scale[0], scale[1]);
    const aspect = Math.exp(rng.uniform(logRatio[0], logRatio[1]));
    const w = Math.round(Math.sqrt(targetArea * aspect));
    const h = Math.round(Math.sqrt(targetArea / aspect));
    if (w > 0 && h > 0 && w <= width && h <= height) {
      return { left: rng.int(0, width - w), top: rng.int(0, height - h), width: w, height: h };
    }
  }
  // Fallback: the whole image clamped to the ratio range, centred.
  const inRatio = width / height;
  let w = width;
  let h = height;
  if (inRatio < ratio[0]) h = Math.round(w / ratio[0]);
  else if (inRatio > ratio[1]) w = Math.round(h * ratio[1]);
  return centerCropBox(width, height, w, h);
}
