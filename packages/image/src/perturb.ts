// Image perturbations for robustness evaluation (`mmft eval recipe --perturb`): Gaussian blur,
// Gaussian pixel noise and a centre crop resized back, each deterministic (noise by seed). Blur and
// noise follow torchvision's gaussian_blur and gaussian_noise (pytorch/vision
// torchvision/transforms/v2/functional/_misc.py): a normalised 1-D Gaussian along rows then columns
// with reflect padding, the kernel size here fixed at 2·ceil(3σ)+1; N(0, σ) added to [0, 1] pixels,
// then clipped. Pixels stay RGB HWC, 0–255.
import sharp from 'sharp';
import type { ImageRef } from '@mmft/core';
import { MmftError } from '@mmft/core';
import { decodeImage, describeInput, type ImageInput } from './decode';
import type { Box } from './geometry';
import { deriveSeed, SeededRng } from './rng';

/** RGB pixels, row-major HWC, values 0–255 (floats between the steps, bytes at the ends). */
export interface RgbPixels {
  readonly data: ArrayLike<number>;
  readonly width: number;
  readonly height: number;
}

/** One perturbation with its strength: blur σ in pixels, noise σ in [0, 1] units, the kept side fraction of the crop. */
export type ImagePerturbation =
  | { readonly kind: 'blur'; readonly sigma: number }
  | { readonly kind: 'noise'; readonly std: number }
  | { readonly kind: 'crop'; readonly fraction: number };

/**
 * The normalised Gaussian kernel of size 2·ceil(3σ)+1 (weights exp(−x²/2σ²) / Σ).
 *
 * @example
 * gaussianKernel1d(1).length; // 7
 */
export function gaussianKernel1d(sigma: number): Float64Array {
  if (!(sigma > 0) || !Number.isFinite(sigma)) {
    throw new MmftError('E_CONFIG', `blur sigma must be a positive number, got ${sigma}`, { hint: 'e.g. --perturb blur:1.5' });
  }
  const radius = Math.ceil(3 * sigma);
  const kernel = new Float64Array(2 * radius + 1);
  let sum = 0;
  for (let i = -radius; i <= radius; i++) sum += kernel[i + radius] = Math.exp(-(i * i) / (2 * sigma * sigma));
  for (let i = 0; i < kernel.length; i++) kernel[i]! /= sum;
  return kernel;
}

/** Reflect padding without repeating the edge (…2 1 | 0 1 2 … n−1 | n−2 …), for any offset. */
function reflect(i: number, n: number): number {
  if (n === 1) return 0;
  const period = 2 * (n - 1);
  const m = ((i % period) + period) % period;
  return m < n ? m : period - m;
}

/**
 * Separable Gaussian blur of every channel (reflect padding), unrounded.
 *
 * @example
 * gaussianBlur({ data, width: 8, height: 8 }, 1.5); // Float32Array of 8·8·3
 */
export function gaussianBlur(image: RgbPixels, sigma: number): Float32Array {
  const kernel = gaussianKernel1d(sigma);
  const radius = (kernel.length - 1) / 2;
  const { width: w, height: h, data } = image;
  const rows = new Float32Array(w * h * 3);
  for (let y = 0; y < h; y++)
    for (let x = 0; x < w; x++)
      for (let c = 0; c < 3; c++) {
        let s = 0;
        for (let k = -radius; k <= radius; k++) s += kernel[k + radius]! * data[(y * w + reflect(x + k, w)) * 3 + c]!;
        rows[(y * w + x) * 3 + c] = s;
      }
  const out = new Float32Array(w * h * 3);
  for (let y = 0; y < h; y++)
    for (let x = 0; x < w; x++)
      for (let c = 0; c < 3; c++) {
        let s = 0;
        for (let k = -radius; k <= radius; k++) s += kernel[k + radius]! * rows[(reflect(y + k, h) * w + x) * 3 + c]!;
        out[(y * w + x) * 3 + c] = s;
      }
  return out;
}

/**
 * Adds independent N(0, (255·std)²) noise to every channel value and clips to 0–255; the draws
 * depend only on `seed` (Box–Muller over SeededRng).
 *
 * @example
 * gaussianNoise({ data, width: 8, height: 8 }, 0.05, 0);
 */
export function gaussianNoise(image: RgbPixels, std: number, seed: number): Float32Array {
  if (!(std >= 0) || !Number.isFinite(std)) {
    throw new MmftError('E_CONFIG', `noise std must be a number ≥ 0 (in 0–1 pixel units), got ${std}`, {
      hint: 'e.g. --perturb noise:0.1',
    });
  }
  const rng = new SeededRng(seed);
  const n = image.width * image.height * 3;
  const out = new Float32Array(n);
  let spare: number | undefined;
  const normal = (): number => {
    if (spare !== undefined) {
      const s = spare;
      spare = undefined;
      return s;
    }
    const u = 1 - rng.float(); // (0, 1]: log stays finite
    const v = rng.float();
    const r = Math.sqrt(-2 * Math.log(u));
    spare = r * Math.sin(2 * Math.PI * v);
    return r * Math.cos(2 * Math.PI * v);
  };
  for (let i = 0; i < n; i++) out[i] = Math.min(255, Math.max(0, image.data[i]! + 255 * std * normal()));
  return out;
}

/**
 * The centred box keeping `fraction` of each side (sizes rounded, at least 1 pixel; offsets floored
 * as transformers' center_crop does).
 *
 * @example
 * centreCropBox(10, 8, 0.5); // { left: 2, top: 2, width: 5, height: 4 }
 */
export function centreCropBox(width: number, height: number, fraction: number): Box {
  if (!(fraction > 0 && fraction <= 1)) {
    throw new MmftError('E_CONFIG', `crop fraction must be in (0, 1], got ${fraction}`, {
      hint: 'e.g. --perturb crop:0.8 keeps 80% of each side',
    });
  }
  const cw = Math.max(1, Math.round(width * fraction));
  const ch = Math.max(1, Math.round(height * fraction));
  return { left: Math.floor((width - cw) / 2), top: Math.floor((height - ch) / 2), width: cw, height: ch };
}

/**
 * Crops the centred box and resizes it back to the full size, bilinear with half-pixel centres
 * (align_corners=False, the convention of torch's interpolate and PIL), unrounded.
 *
 * @example
 * centreCropResize({ data, width: 8, height: 8 }, 0.5).box; // { left: 2, top: 2, width: 4, height: 4 }
 */
export function centreCropResize(image: RgbPixels, fraction: number): { data: Float32Array; box: Box } {
  const { width: w, height: h, data } = image;
  const box = centreCropBox(w, h, fraction);
  const out = new Float32Array(w * h * 3);
  const sx = box.width / w;
  const sy = box.height / h;
  const clamp = (v: number, n: number) => Math.min(n - 1, Math.max(0, v));
  for (let y = 0; y < h; y++) {
    const fy = clamp((y + 0.5) * sy - 0.5, box.height);
    const y0 = Math.floor(fy);
    const y1 = Math.min(box.height - 1, y0 + 1);
    const ty = fy - y0;
    for (let x = 0; x < w; x++) {
      const fx = clamp((x + 0.5) * sx - 0.5, box.width);
      const x0 = Math.floor(fx);
      const x1 = Math.min(box.width - 1, x0 + 1);
      const tx = fx - x0;
      for (let c = 0; c < 3; c++) {
        const at = (xx: number, yy: number) => data[((box.top + yy) * w + box.left + xx) * 3 + c]!;
        const top = at(x0, y0) * (1 - tx) + at(x1, y0) * tx;
        const bottom = at(x0, y1) * (1 - tx) + at(x1, y1) * tx;
        out[(y * w + x) * 3 + c] = top * (1 - ty) + bottom * ty;
      }
    }
  }
  return { data: out, box };
}

/** Rounds and clips floats to bytes. */
export function toBytes(values: ArrayLike<number>): Uint8Array {
  const out = new Uint8Array(values.length);
  for (let i = 0; i < values.length; i++) out[i] = Math.min(255, Math.max(0, Math.round(values[i]!)));
  return out;
}

/**
 * Applies `p` to decoded pixels (noise seeded by `seed`) and returns bytes.
 *
 * @example
 * applyPerturbation({ data, width: 4, height: 4 }, { kind: 'crop', fraction: 0.5 }, 0);
 */
export function applyPerturbation(image: RgbPixels, p: ImagePerturbation, seed: number): Uint8Array {
  switch (p.kind) {
    case 'blur':
      return toBytes(gaussianBlur(image, p.sigma));
    case 'noise':
      return toBytes(gaussianNoise(image, p.std, seed));
    case 'crop':
      return toBytes(centreCropResize(image, p.fraction).data);
  }
}

/** A short name of a perturbation with its strength ("blur:1.5"). */
export const perturbationName = (p: ImagePerturbation): string =>
  `${p.kind}:${p.kind === 'blur' ? p.sigma : p.kind === 'noise' ? p.std : p.fraction}`;

/**
 * Decodes an image, perturbs it and returns it as PNG bytes (lossless, so the model sees exactly
 * the perturbed pixels). The noise seed is derived from `seed` and the image's name, so one image
 * gets the same noise in every run and two images get different noise.
 *
 * @example
 * const ref = await perturbImage({ kind: 'file', path: 'a.png' }, { kind: 'blur', sigma: 2 }, 0);
 */
export async function perturbImage(input: ImageInput, p: ImagePerturbation, seed: number): Promise<ImageRef & { kind: 'bytes' }> {
  const name = describeInput(input);
  const decoded = await decodeImage(input);
  let hash = 0;
  for (let i = 0; i < name.length; i++) hash = (Math.imul(hash, 31) + name.charCodeAt(i)) | 0;
  const pixels = applyPerturbation(decoded, p, deriveSeed(seed, hash >>> 0));
  const png = await sharp(pixels, { raw: { width: decoded.width, height: decoded.height, channels: 3 } })
    .png()
    .toBuffer();
  return { kind: 'bytes', bytes: new Uint8Array(png), format: 'png', key: `${name}#${perturbationName(p)}@${seed}` };
}
