// `--fix OUT`: writes kept lines to OUT (UTF-8, "\n" line ends, no BOM) and every dropped line to
// OUT.rejects.jsonl with its reasons, so nothing is lost silently. The input is only read; OUT
// must differ from it. Image paths resolve from the data file's folder, so kept lines written to
// another folder get their "image" rewritten. Writes respect stream back-pressure.
import * as fs from 'node:fs';
import * as path from 'node:path';
import { once } from 'node:events';
import { MmftError } from '@mmft/core';
import { buffer } from '../io/bytes';
import { relocatedImagePath } from '../records/image-path';
import type { RecordIssue } from '../records/issue';

/** A dropped line as written to OUT.rejects.jsonl. */
export interface RejectRecord {
  readonly line: number;
  readonly reasons: ReadonlyArray<{ code: string; field?: string; message: string }>;
  /** The line's text (invalid UTF-8 bytes shown as U+FFFD). */
  readonly text: string;
  /** The exact bytes, only for lines that are not UTF-8. */
  readonly bytes_base64?: string;
}

/**
 * Open OUT and OUT.rejects.jsonl for writing.
 *
 * @example
 * const fix = await FixWriter.open('clean.jsonl', 'train.jsonl');
 * await fix.keep('{"image": "a.png", "caption": "a cat"}');
 * await fix.close();
 */
export class FixWriter {
  readonly rejectsPath: string;
  kept = 0;
  dropped = 0;
  /** OUT's folder when it differs from the input's (image paths are then rewritten). */
  private readonly movedTo?: string;
  private constructor(
    readonly outPath: string,
    inputPath: string,
    private readonly out: fs.WriteStream,
    private readonly rejects: fs.WriteStream,
  ) {
    this.rejectsPath = rejects.path as string;
    const outDir = path.dirname(outPath);
    if (outDir !== path.dirname(path.resolve(inputPath))) this.movedTo = outDir;
  }

  static async open(outPath: string, inputPath: string): Promise<FixWriter> {
    const out = path.resolve(outPath);
    const rejects = `${out}.rejects.jsonl`;
    for (const target of [out, rejects]) {
      if (target === path.resolve(inputPath)) {
        throw new MmftError('E_INPUT', `--fix ${outPath} would overwrite the input ${inputPath}`, {
          hint: 'write the cleaned copy to another file',
        });
      }
    }
    const streams = [fs.createWriteStream(out), fs.createWriteStream(rejects)] as const;
    await Promise.all(
      streams.map(async (s) => {
        const [error] = (await Promise.race([once(s, 'open'), once(s, 'error')])) as [unknown];
        if (error instanceof Error) throw new MmftError('E_IO', `cannot write ${s.path as string}: ${error.message}`, { cause: error });
      }),
    );
    return new FixWriter(out, inputPath, ...streams);
  }

  /** Keep a line; `image` (the parsed record and its resolved image) lets a moved copy rewrite the path. */
  async keep(text: string, image?: { readonly record: Record<string, unknown>; readonly imagePath: string }): Promise<void> {
    this.kept += 1;
    let line = text;
    if (this.movedTo && image) {
      const { record, imagePath } = image;
      const moved = (original: string) => relocatedImagePath(original, imagePath, this.movedTo!);
      // The one image sits in "image" (LLaVA) or as the only entry of "images" (LLaMA-Factory, ms-swift).
      if (typeof record.image === 'string') line = JSON.stringify({ ...record, image: moved(record.image) });
      else if (typeof record.images === 'string') line = JSON.stringify({ ...record, images: moved(record.images) });
      else if (Array.isArray(record.images) && typeof record.images[0] === 'string') {
        line = JSON.stringify({ ...record, images: [moved(record.images[0])] });
      }
    }
    await write(this.out, `${line}\n`);
  }

  async reject(line: number, issues: readonly RecordIssue[], text: string, bytes?: Uint8Array): Promise<void> {
    this.dropped += 1;
    const record: RejectRecord = {
      line,
      reasons: issues.map((i) => ({ code: i.code, ...(i.field ? { field: i.field } : {}), message: i.message })),
      text,
      ...(bytes ? { bytes_base64: buffer(bytes).toString('base64') } : {}),
    };
    await write(this.rejects, `${JSON.stringify(record)}\n`);
  }

  async close(): Promise<void> {
    await Promise.all(
      [this.out, this.rejects].map((s) => new Promise<void>((resolve, reject) => s.end((e?: Error | null) => (e ? reject(e) : resolve())))),
    );
  }
}

async function write(stream: fs.WriteStream, text: string): Promise<void> {
  if (!stream.write(text)) await once(stream, 'drain');
}
