// The interleaved task: images and texts in reading order, as Flamingo and IDEFICS pretrain on web
// documents. Two layouts:
// - mmft's own {"segments": [{"image": "a.png"}, {"text": "..."}, ...]}, each segment holding
//   exactly one of "image" or "text";
// - the OBELICS layout {"images": ["a.png", null, ...], "texts": [null, "...", ...]}: two parallel
//   lists with exactly one non-null entry per position (HuggingFaceM4/OBELICS README.md, "Data
//   Fields": images [image_1, None, image_2] and texts [None, text, None]). Its other columns
//   (metadata, general_metadata) are ignored.
// Every text is a training target. A literal "<image>" inside a text is refused: the image
// segments are the placeholders, and a tokenizer that knows "<image>" would read a phantom image.
import { z } from 'zod';
import type { InterleavedSegment } from '@mmft/core';
import { idFields } from './fields';
import { IMAGE_TOKEN, type ImageValue } from './instruction';
import { typeName } from './issue';
import type { MessageCode } from '../validate/messages';
import type { TaskFormat } from './task-format';

/** One segment as written: its text, or its image value and where that sits ("segments.2.image", "images.2"). */
type WrittenSegment = { readonly text: string } | { readonly image: ImageValue };

/** An interleaved record after checking: its segments in order. */
export interface InterleavedRecord {
  readonly id?: string | number;
  readonly lang?: string;
  readonly segments: readonly WrittenSegment[];
}

type Path = (string | number)[];
type Report = (path: Path, message: string, code?: MessageCode) => void;

function checkText(value: string, at: Path, report: Report): boolean {
  if (value.trim() === '') {
    report(at, 'is empty (a text segment)', 'empty-text');
    return false;
  }
  if (value.includes(IMAGE_TOKEN)) {
    report(at, `holds "${IMAGE_TOKEN}"; an image goes in its own segment, where it stands in the document`, 'image-placeholders');
    return false;
  }
  return true;
}

function checkImage(value: unknown, at: Path, report: Report): ImageValue | undefined {
  if (typeof value !== 'string') {
    report(at, `must be a string (an image path, file:// URL or data URL), got ${typeName(value)}`, 'wrong-type');
    return undefined;
  }
  if (value.trim() === '') {
    report(at, 'is empty (an image path, file:// URL or data URL)', 'empty-text');
    return undefined;
  }
  return { value, field: at.join('.') };
}

function readSegments(list: unknown, report: Report): WrittenSegment[] {
  if (!Array.isArray(list)) {
    report(['segments'], `must be an array of {"image"} and {"text"} objects, got ${typeName(list)}`, 'wrong-type');
    return [];
  }
  const out: WrittenSegment[] = [];
  list.forEach((raw, i) => {
    if (raw === null || typeof raw !== 'object' || Array.isArray(raw)) {
      report(['segments', i], `must be an object with "image" or "text", got ${typeName(raw)}`, 'wrong-type');
      return;
    }
    const segment = raw as Record<string, unknown>;
    const hasImage = segment.image !== undefined;
    const hasText = segment.text !== undefined;
    if (hasImage && hasText) {
      report(['segments', i], 'holds both "image" and "text"; give each in its own segment, in reading order', 'wrong-type');
    } else if (!hasImage && !hasText) {
      report(['segments', i], `holds neither "image" nor "text" (keys ${JSON.stringify(Object.keys(segment))})`, 'missing-field');
    } else if (hasText) {
      if (typeof segment.text !== 'string')
        report(['segments', i, 'text'], `must be a string, got ${typeName(segment.text)}`, 'wrong-type');
      else if (checkText(segment.text, ['segments', i, 'text'], report)) out.push({ text: segment.text });
    } else {
      const image = checkImage(segment.image, ['segments', i, 'image'], report);
      if (image) out.push({ image });
    }
  });
  return out;
}

function readParallel(images: unknown, texts: unknown, report: Report): WrittenSegment[] {
  const lists = { images, texts };
  for (const [key, value] of Object.entries(lists)) {
    if (!Array.isArray(value)) {
      report(
        [key],
        `must be an array (OBELICS layout: "images" and "texts" hold one entry per position, the other null), got ${typeName(value)}`,
        'wrong-type',
      );
    }
  }
  if (!Array.isArray(images) || !Array.isArray(texts)) return [];
  if (images.length !== texts.length) {
    report(
      ['texts'],
      `has ${texts.length} entries but "images" has ${images.length}; the lists are parallel (one position per segment, null where the other list holds it)`,
      'wrong-type',
    );
    return [];
  }
  const out: WrittenSegment[] = [];
  images.forEach((image, i) => {
    const text = texts[i];
    const isImage = image !== null && image !== undefined;
    const isText = text !== null && text !== undefined;
    if (isImage && isText) {
      report(['texts', i], `and "images.${i}" are both set; each position holds an image or a text, the other null`, 'wrong-type');
    } else if (!isImage && !isText) {
      report(['texts', i], `and "images.${i}" are both null; each position holds an image or a text`, 'missing-field');
    } else if (isText) {
      if (typeof text !== 'string') report(['texts', i], `must be a string or null, got ${typeName(text)}`, 'wrong-type');
      else if (checkText(text, ['texts', i], report)) out.push({ text });
    } else {
      const value = checkImage(image, ['images', i], report);
      if (value) out.push({ image: value });
    }
  });
  return out;
}

const schema = z.looseObject({ ...idFields }).transform((record, ctx) => {
  let failed = false;
  const report: Report = (path, message, code) => {
    failed = true;
    ctx.addIssue({ code: 'custom', path, message, params: { code: code ?? 'wrong-type' } });
  };
  let segments: WrittenSegment[];
  if (record.segments !== undefined) {
    for (const key of ['images', 'texts', 'image', 'text'])
      if (record[key] !== undefined)
        report([key], `conflicts with "segments": give the document either as "segments" or as OBELICS "images" + "texts"`);
    segments = readSegments(record.segments, report);
  } else if (record.images !== undefined || record.texts !== undefined) {
    const missing = record.images === undefined ? 'images' : record.texts === undefined ? 'texts' : undefined;
    if (missing) {
      report([missing], `missing (OBELICS layout: "images" and "texts" are parallel lists; give both)`, 'missing-field');
      return z.NEVER;
    }
    segments = readParallel(record.images, record.texts, report);
  } else {
    report(['segments'], 'missing (the document: [{"image": "a.png"}, {"text": "..."}, ...])', 'missing-field');
    return z.NEVER;
  }
  if (!failed && !segments.some((s) => 'text' in s)) {
    report(
      [record.segments !== undefined ? 'segments' : 'texts'],
      'holds no text: nothing to learn from (give at least one text segment)',
      'missing-field',
    );
  }
  if (failed) return z.NEVER;
  return { id: record.id, lang: record.lang, segments } as InterleavedRecord;
});

export const interleavedFormat: TaskFormat<InterleavedRecord> = {
  task: 'interleaved',
  schema: schema as unknown as z.ZodType<InterleavedRecord>,
  // "messages"/"conversations" with an "images" list are instruction records (sharegpt), not OBELICS.
  detect: (record) =>
    'segments' in record || ('images' in record && 'texts' in record && !('messages' in record) && !('conversations' in record)),
  imagesOf: (record) => record.segments.flatMap((s) => ('image' in s ? [s.image] : [])),
  toExample(record, base) {
    const { id, source, lang } = base;
    const images = base.images ?? [];
    let next = 0;
    const segments: InterleavedSegment[] = record.segments.map((s) => ('text' in s ? { text: s.text } : { image: images[next++]! }));
    if (next !== images.length) {
      throw new Error(`${source.file}:${source.line}: ${images.length} resolved images for ${next} image segments`);
    }
    const texts = segments.flatMap((s) => (s.text === undefined ? [] : [s.text]));
    return { example: { id, source, ...(lang === undefined ? {} : { lang }), task: 'interleaved', segments }, texts };
  },
};
