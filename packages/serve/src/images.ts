// Images in requests arrive as data URLs (`data:image/png;base64,...`), as OpenAI's `image_url`
// parts carry them; LLaMA-Factory accepts the same pattern (hiyouga/LLaMA-Factory
// src/llamafactory/api/chat.py). Remote URLs are refused: the server fetches nothing. Size and pixel
// count are checked from the header before anything is decoded, so a decompression bomb costs nothing.
import sharp from 'sharp';
import { ApiError } from './api-error';
import type { ServeLimits } from './limits';

const DATA_URL = /^data:image\/([a-z0-9.+-]+);base64,/i;
const BASE64 = /^[A-Za-z0-9+/]*={0,2}$/;
const FORMATS = new Set(['png', 'jpeg', 'webp', 'gif', 'svg', 'tiff', 'avif', 'heif']);

/** Whether a string is an image data URL (the embeddings route's test for an image input). */
export const isImageDataUrl = (s: string): boolean => s.startsWith('data:image/');

/**
 * The image bytes of a data URL, checked against the limits; errors (ApiError 400/413) name `where`.
 *
 * @example
 * const bytes = await decodeImageDataUrl('data:image/png;base64,iVBOR...', 'input[1]', limits);
 */
export async function decodeImageDataUrl(url: string, where: string, limits: ServeLimits): Promise<Uint8Array> {
  const head = DATA_URL.exec(url);
  if (!head) {
    const shown = url.length > 40 ? `${url.slice(0, 40)}...` : url;
    throw new ApiError(
      400,
      `${where}: "${shown}" is not a base64 image data URL; send data:image/<type>;base64,<bytes> (remote URLs are not fetched)`,
      {
        param: where,
        code: 'invalid_image_url',
      },
    );
  }
  const payload = url.slice(head[0].length).replace(/\s+/g, '');
  if (payload.length === 0 || payload.length % 4 === 1 || !BASE64.test(payload)) {
    throw new ApiError(400, `${where}: the data URL's payload is not valid base64`, { param: where, code: 'invalid_base64' });
  }
  const bytes = Buffer.from(payload, 'base64');
  if (bytes.byteLength > limits.maxImageBytes) {
    throw new ApiError(413, `${where}: the image has ${bytes.byteLength} bytes, over the limit of ${limits.maxImageBytes}`, {
      param: where,
      code: 'image_too_large',
    });
  }
  let meta: sharp.Metadata;
  try {
    meta = await sharp(bytes).metadata();
  } catch {
    throw new ApiError(400, `${where}: the bytes are not an image mmft can read (JPEG, PNG, WebP, GIF, SVG)`, {
      param: where,
      code: 'invalid_image',
    });
  }
  if (!meta.format || !FORMATS.has(meta.format) || !meta.width || !meta.height) {
    throw new ApiError(400, `${where}: the bytes are not an image mmft can read (JPEG, PNG, WebP, GIF, SVG)`, {
      param: where,
      code: 'invalid_image',
    });
  }
  if (meta.width * meta.height > limits.maxImagePixels) {
    throw new ApiError(
      400,
      `${where}: the image is ${meta.width}×${meta.height} = ${meta.width * meta.height} pixels, over the limit of ${limits.maxImagePixels}`,
      { param: where, code: 'image_too_many_pixels' },
    );
  }
  return new Uint8Array(bytes.buffer, bytes.byteOffset, bytes.byteLength);
}
