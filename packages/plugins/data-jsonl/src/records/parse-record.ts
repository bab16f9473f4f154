// One JSONL line → a typed example or the list of what is wrong with it. Shared by the dataset
// readers (which throw on the first issue) and the validator (which reports them all).
import * as path from 'node:path';
import type { TaskKind } from '@mmft/core';
import { captionFormat } from './caption';
import { zodIssues } from './fields';
import type { ImageRef } from '@mmft/core';
import type { ImagePathPolicy } from './image-path';
import { resolveImageValue } from './image-value';
import { instructionFormat, instructionFormatFor, type ShareGptLayout } from './instruction';
import { interleavedFormat } from './interleaved';
import type { RecordIssue } from './issue';
import { typeName } from './issue';
import type { RecordView, TaskFormat } from './task-format';
import { retrievalFormat } from './retrieval';
import { textFormat } from './text';
import { vqaFormat } from './vqa';

/** The task formats, in auto-detection order (most specific keys first). */
export const TASK_FORMATS: Readonly<Record<TaskKind, TaskFormat<any>>> = {
  instruction: instructionFormat,
  vqa: vqaFormat,
  // before retrieval, whose {"image", "text"} pairs share the "text" key: text records have no "image"
  text: textFormat,
  retrieval: retrievalFormat,
  caption: captionFormat,
  // "segments", or OBELICS "images" + "texts": keys no format above detects, so last (and the
  // choices people already know keep their order)
  interleaved: interleavedFormat,
};
export const TASKS = Object.keys(TASK_FORMATS) as TaskKind[];

/** The task a record's keys indicate, or undefined. */
export function detectTask(record: Record<string, unknown>): TaskKind | undefined {
  return TASKS.find((task) => TASK_FORMATS[task].detect(record));
}

export type ParsedLine =
  { readonly ok: true; readonly record: Record<string, unknown> } | { readonly ok: false; readonly issues: RecordIssue[] };

/**
 * Parse one line's JSON; a line without a final newline that fails is reported as truncated.
 *
 * @example
 * parseJsonLine('{"image": "a.png"}', true) // { ok: true, record: { image: 'a.png' } }
 */
export function parseJsonLine(text: string, terminated: boolean): ParsedLine {
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch (error) {
    const why = (error as Error).message;
    const tail = terminated ? '' : ' (this is the last line and the file does not end with a newline: was it truncated?)';
    return { ok: false, issues: [{ code: 'invalid-json', message: `invalid JSON: ${why}${tail}` }] };
  }
  if (value === null || typeof value !== 'object' || Array.isArray(value)) {
    return { ok: false, issues: [{ code: 'not-object', message: `each line must be one JSON object, got ${typeName(value)}` }] };
  }
  return { ok: true, record: value as Record<string, unknown> };
}

export interface RecordContext {
  readonly file: string;
  readonly line: number;
  readonly policy: ImagePathPolicy;
  /** 0-based position in a JSON array file; absent for JSONL lines. */
  readonly element?: number;
  /** Columns and tags of a LLaMA-Factory dataset_info.json entry the file was named through. */
  readonly layout?: ShareGptLayout;
}

/** One resolved image of a record: its reference, its file (absent for data URLs) and where it was written. */
export interface CheckedImage {
  readonly ref: ImageRef;
  readonly path?: string;
  /** "image", "images.0", "segments.3.image", "messages.0.content.1.image_url.url". */
  readonly field: string;
}

export type CheckedRecord =
  | {
      readonly ok: true;
      readonly view: RecordView;
      /** Every image of the record in reading order (empty for text records and text-only conversations). */
      readonly images: readonly CheckedImage[];
      /** The first image's file, bytes and field (what one-image callers such as split and --fix relocate). */
      readonly imagePath?: string;
      readonly imageBytes?: Extract<ImageRef, { kind: 'bytes' }>;
      readonly imageField?: string;
    }
  | { readonly ok: false; readonly issues: RecordIssue[] };

const layoutFormats = new WeakMap<ShareGptLayout, TaskFormat<any>>();

function formatOf(task: TaskKind, layout: ShareGptLayout | undefined): TaskFormat<any> {
  if (task !== 'instruction' || layout === undefined) return TASK_FORMATS[task];
  let format = layoutFormats.get(layout);
  if (!format) layoutFormats.set(layout, (format = instructionFormatFor(layout)));
  return format;
}

/** Check a parsed record against `task`'s schema and resolve its image paths (none for records without an image). */
export function checkRecord(task: TaskKind, record: Record<string, unknown>, ctx: RecordContext): CheckedRecord {
  const format = formatOf(task, ctx.layout);
  const parsed = format.schema.safeParse(record);
  const imageOf = (value: unknown, field = 'image') =>
    typeof value === 'string' && value.trim() !== '' ? resolveImageValue(value, field, ctx.policy) : undefined;
  if (!parsed.success) {
    // Report a refused image path too, so one run lists everything wrong with the line.
    const image = task === 'text' || task === 'interleaved' ? undefined : imageOf(record.image);
    return { ok: false, issues: [...zodIssues(parsed.error, record), ...(image && !image.ok ? [image.issue] : [])] };
  }
  const data = parsed.data as { image?: string; id?: string | number; lang?: string };
  const written = format.imagesOf ? format.imagesOf(parsed.data) : data.image === undefined ? [] : [{ value: data.image, field: 'image' }];
  const images: CheckedImage[] = [];
  const refused: RecordIssue[] = [];
  for (const { value, field } of written) {
    const image = imageOf(value, field);
    if (!image) continue;
    if (!image.ok) refused.push(image.issue);
    else images.push({ ref: image.ref, field, ...(image.path === undefined ? {} : { path: image.path }) });
  }
  if (refused.length > 0) return { ok: false, issues: refused };
  const where = ctx.element === undefined ? `:${ctx.line}` : `[${ctx.element}]`;
  const refs = images.map((i) => i.ref);
  const view = format.toExample(parsed.data, {
    id: data.id === undefined ? `${path.basename(ctx.file)}${where}` : String(data.id),
    ...(refs.length > 0 ? { image: refs[0], images: refs } : {}),
    source: { file: ctx.file, line: ctx.line },
    ...(data.lang === undefined ? {} : { lang: data.lang }),
  });
  const first = images[0];
  if (!first) return { ok: true, view, images };
  return first.ref.kind === 'bytes'
    ? { ok: true, view, images, imageBytes: first.ref, imageField: first.field }
    : { ok: true, view, images, imagePath: first.path, imageField: first.field };
}
