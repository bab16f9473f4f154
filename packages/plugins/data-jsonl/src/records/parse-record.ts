// One JSONL line → a typed example or the list of what is wrong with it. Shared by the dataset
// readers (which throw on the first issue) and the validator (which reports them all).
import * as path from 'node:path';
import type { TaskKind } from '@mmft/core';
import { captionFormat } from './caption';
import { zodIssues } from './fields';
import { resolveImagePath, type ImagePathPolicy } from './image-path';
import { instructionFormat } from './instruction';
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
}

export type CheckedRecord =
  { readonly ok: true; readonly view: RecordView; readonly imagePath?: string } | { readonly ok: false; readonly issues: RecordIssue[] };

/** Check a parsed record against `task`'s schema and resolve its image path (absent for records without an image). */
export function checkRecord(task: TaskKind, record: Record<string, unknown>, ctx: RecordContext): CheckedRecord {
  const format = TASK_FORMATS[task];
  const parsed = format.schema.safeParse(record);
  const imageOf = (value: unknown) => (typeof value === 'string' && value.trim() !== '' ? resolveImagePath(value, ctx.policy) : undefined);
  if (!parsed.success) {
    // Report a refused image path too, so one run lists everything wrong with the line.
    const image = task === 'text' ? undefined : imageOf(record.image);
    return { ok: false, issues: [...zodIssues(parsed.error, record), ...(image && !image.ok ? [image.issue] : [])] };
  }
  const data = parsed.data as { image?: string; id?: string | number; lang?: string };
  const image = imageOf(data.image);
  if (image && !image.ok) return { ok: false, issues: [image.issue] };
  const view = format.toExample(parsed.data, {
    id: data.id === undefined ? `${path.basename(ctx.file)}:${ctx.line}` : String(data.id),
    ...(image ? { image: { kind: 'file' as const, path: image.path } } : {}),
    source: { file: ctx.file, line: ctx.line },
    ...(data.lang === undefined ? {} : { lang: data.lang }),
  });
  return image ? { ok: true, view, imagePath: image.path } : { ok: true, view };
}
