// The shape every task format module fills (caption.ts, vqa.ts, retrieval.ts, instruction.ts, text.ts):
// a zod schema for one JSONL record, a key test for auto-detection and the mapping to core's
// Example type. Kept as a table (formats.ts) the way transformers.js maps model types to classes.
import type { z } from 'zod';
import type { Example, ImageRef, SourceLocation, TaskKind } from '@mmft/core';

/** Fields every example gets before the task adds its own; `image` is absent for records without one. */
export interface ExampleBase {
  readonly id: string;
  /** The record's first image. */
  readonly image?: ImageRef;
  /** Every image of the record in reading order (as `imagesOf` listed them); absent without images. */
  readonly images?: readonly ImageRef[];
  readonly source: SourceLocation;
  readonly lang?: string;
}

/** The base of an image task's example; its schema requires "image", so a missing one is a bug here. */
export function withImage(base: ExampleBase): ExampleBase & { readonly image: ImageRef } {
  if (base.image === undefined) {
    throw new Error(`${base.source.file}:${base.source.line}: an image task's record reached toExample without an image`);
  }
  // An image task has one image: `images` (the list checkRecord resolved) does not belong on its example.
  const { images: _images, ...rest } = base;
  return rest as ExampleBase & { readonly image: ImageRef };
}

/** What a record turns into: the example, every text in it (stats, duplicates), VQA's pair. */
export interface RecordView {
  readonly example: Example;
  readonly texts: readonly string[];
  readonly vqa?: { readonly question: string; readonly answer: string };
}

export interface TaskFormat<R = unknown> {
  readonly task: TaskKind;
  readonly schema: z.ZodType<R>;
  /** True when a record's keys say it is of this task (used when --task is not given). */
  detect(record: Record<string, unknown>): boolean;
  /** The record's images as written, in reading order, and where each sits (default: the "image" field, if any). */
  imagesOf?(record: R): readonly { readonly value: string; readonly field: string }[];
  toExample(record: R, base: ExampleBase): RecordView;
}
