// Turns an image reference (file path, encoded bytes of JPEG/PNG/WebP/SVG) into a sharp pipeline
// or decoded RGB pixels, with errors that name the image. Alpha is composited on white and grey
// images become RGB, as transformers' convert_to_rgb (image_transforms.py) does.
import * as fs from 'node:fs';
import sharp from 'sharp';
import type { ImageRef } from '@mmft/core';
import { MmftError } from '@mmft/core';

/** Anything mmft can read an image from: an ImageRef, a file path, or encoded bytes. */
export type ImageInput = ImageRef | string | Uint8Array | Buffer;

/** Decoded 8-bit RGB pixels, row-major HWC. */
export interface DecodedImage {
  readonly data: Uint8Array;
  readonly width: number;
  readonly height: number;
}

/** A short name of the input for error messages. */
export function describeInput(input: ImageInput): string {
  if (typeof input === 'string') return input;
  if (input instanceof Uint8Array) return `<${input.byteLength} bytes>`;
  return input.kind === 'file' ? input.path : `${input.key} (${input.format} bytes)`;
}

function source(input: ImageInput): string | Uint8Array | Buffer {
  if (typeof input === 'string' || input instanceof Uint8Array) return input;
  return input.kind === 'file' ? input.path : input.bytes;
}

/** A sharp instance on the input, already flattened onto white and in sRGB. */
export function openImage(input: ImageInput): sharp.Sharp {
  const src = source(input);
  if (typeof src === 'string' && !fs.existsSync(src)) {
    throw new MmftError('E_INPUT', `image file not found: ${src}`, {
      hint: 'image paths in JSONL files resolve from the file\'s folder; check the "image" field',
    });
  }
  return sharp(src, { failOn: 'error' }).flatten({ background: '#ffffff' }).toColourspace('srgb');
}

/** Wrap a decoder failure into an MmftError naming the image. */
export function decodeError(input: ImageInput, cause: unknown): MmftError {
  if (cause instanceof MmftError) return cause;
  const reason = cause instanceof Error ? cause.message : String(cause);
  return new MmftError('E_INPUT', `cannot decode image ${describeInput(input)}: ${reason}`, {
    cause,
    hint: 'mmft reads JPEG, PNG, WebP and SVG; re-encode the file or remove its record',
  });
}

/**
 * Decode an image to 8-bit RGB (HWC).
 *
 * @example
 * const { data, width, height } = await decodeImage('photo.jpg'); // data.length === width * height * 3
 */
export async function decodeImage(input: ImageInput): Promise<DecodedImage> {
  try {
    const { data, info } = await openImage(input).removeAlpha().raw().toBuffer({ resolveWithObject: true });
    return { data: new Uint8Array(data.buffer, data.byteOffset, data.byteLength), width: info.width, height: info.height };
  } catch (error) {
    throw decodeError(input, error);
  }
}
