// What an image reference in a conversation record may be: a path relative to the data file (LLaVA,
// LLaMA-Factory, ms-swift), a file:// URL or a base64 data URL (OpenAI chat `image_url` parts;
// ms-swift accepts "data:image/jpg;base64,..." in "images": modelscope/ms-swift
// docs/source_en/Customization/Custom-dataset.md). Remote URLs stay refused (image-path.ts).
import { createHash } from 'node:crypto';
import { fileURLToPath } from 'node:url';
import type { ImageRef } from '@mmft/core';
import { resolveImagePath, type ImagePathPolicy } from './image-path';
import type { RecordIssue } from './issue';

export type ResolvedImage =
  { readonly ok: true; readonly ref: ImageRef; readonly path?: string } | { readonly ok: false; readonly issue: RecordIssue };

const DATA_URL = /^data:([^;,]*)((?:;[^;,]*)*),/i;
const FORMATS: Readonly<Record<string, 'png' | 'jpeg' | 'webp' | 'svg'>> = {
  'image/png': 'png',
  'image/jpeg': 'jpeg',
  'image/jpg': 'jpeg',
  'image/webp': 'webp',
  'image/svg+xml': 'svg',
};

/**
 * Resolve one image value found at `field` (a dotted path such as "images.0" or
 * "messages.0.content.1.image_url.url").
 *
 * @example
 * resolveImageValue('data:image/png;base64,iVBO...', 'images.0', { baseDir: '/data' }) // { ok: true, ref: { kind: 'bytes', ... } }
 */
export function resolveImageValue(value: string, field: string, policy: ImagePathPolicy): ResolvedImage {
  const fail = (code: RecordIssue['code'], message: string): ResolvedImage => ({ ok: false, issue: { code, field, message } });
  const data = DATA_URL.exec(value);
  if (data) {
    const mime = data[1]!.toLowerCase();
    const format = FORMATS[mime];
    if (!format) {
      return fail(
        'image-corrupt',
        `field "${field}" is a data URL of type "${mime || 'none'}"; mmft reads image/png, image/jpeg, image/webp and image/svg+xml`,
      );
    }
    if (!data[2]!.toLowerCase().split(';').includes('base64')) {
      return fail(
        'image-corrupt',
        `field "${field}" is a data URL without ";base64"; encode the image as base64 (data:${mime};base64,...)`,
      );
    }
    const body = value.slice(data[0].length).replace(/\s+/g, '');
    if (body.length === 0 || !/^[A-Za-z0-9+/_-]*={0,2}$/.test(body)) {
      return fail('image-corrupt', `field "${field}" holds a data URL whose base64 body is empty or has characters outside base64`);
    }
    const bytes = new Uint8Array(Buffer.from(body, 'base64'));
    const key = `data:${createHash('sha256').update(bytes).digest('hex').slice(0, 32)}`;
    return { ok: true, ref: { kind: 'bytes', bytes, format, key } };
  }
  let local = value;
  if (/^file:\/\//i.test(value)) {
    try {
      local = fileURLToPath(value);
    } catch (cause) {
      return fail('image-url', `field "${field}" is a file URL that names no local file (${(cause as Error).message})`);
    }
  }
  const resolved = resolveImagePath(local, policy);
  if (!resolved.ok) return { ok: false, issue: { ...resolved.issue, field, message: `field "${field}": ${resolved.issue.message}` } };
  return { ok: true, ref: { kind: 'file', path: resolved.path }, path: resolved.path };
}
