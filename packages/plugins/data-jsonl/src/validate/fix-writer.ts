// `--fix OUT`: writes kept lines to OUT (UTF-8, "\n" line ends, no BOM) and every dropped line to
// OUT.rejects.jsonl with its reasons, so nothing is lost silently. The input is only read; OUT
// must differ from it. Image paths resolve from the data file's folder, so kept lines written to
// another folder get every image field rewritten ("image", "images.N", "segments.N.image", parts). Writes respect stream back-pressure. With
// `redact`, personal data in kept lines is replaced by placeholders and images with identifying
// metadata are re-encoded without it into `<OUT stem>.images/` (new files; the originals are only
// read), each change noted in OUT.changes.jsonl.
import * as fs from 'node:fs';
import * as path from 'node:path';
import { once } from 'node:events';
import sharp from 'sharp';
import { maskPersonalData, MmftError } from '@mmft/core';
import { buffer } from '../io/bytes';
import { relocatedImagePath, relocateImageFields } from '../records/image-path';
import type { RecordIssue } from '../records/issue';
import type { ExifPrivacy } from './exif';
import { describeImageMetadata, redactRecord, type TextFinding } from './privacy';

/** One image of a kept record. */
export interface KeptImage {
  /** Absolute path of the image file (absent for data URLs). */
  readonly path?: string;
  /** Where the record holds it, as a JSON path ("image", "images.0", "segments.3.image"). */
  readonly field: string;
  /** Content hash of the image (names the metadata-free copy). */
  readonly hash: string;
  /** Identifying metadata the image carries, if any. */
  readonly metadata?: ExifPrivacy;
}

/** A kept line's parsed record and what --redact-pii may change in it. */
export interface KeptRecord {
  readonly line: number;
  readonly record: Record<string, unknown>;
  /** Every image of the record in reading order (empty for text records); all are moved and, with --redact-pii, stripped. */
  readonly images: readonly KeptImage[];
  readonly personal?: readonly TextFinding[];
}

/** One line of OUT.changes.jsonl. */
export type ChangeRecord =
  | {
      readonly line: number;
      readonly field: string;
      readonly action: 'redacted';
      readonly found: ReadonlyArray<{ readonly kind: string; readonly masked: string }>;
    }
  | {
      readonly line: number;
      readonly field: string;
      readonly action: 'metadata-stripped';
      readonly from: string;
      readonly to: string;
      readonly removed: readonly string[];
    }
  | {
      readonly line: number;
      readonly field: string;
      readonly action: 'metadata-kept';
      readonly reason: string;
      readonly found: readonly string[];
    };

/** Formats sharp writes in place; anything else is copied as PNG. */
const WRITABLE = new Set(['jpeg', 'png', 'webp', 'tiff', 'gif', 'avif']);

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
  /** With redaction: OUT.changes.jsonl, the folder of metadata-free image copies and the counts. */
  readonly changesPath?: string;
  readonly imagesDir?: string;
  redactedLines = 0;
  strippedImages = 0;
  /** OUT's folder when it differs from the input's (image paths are then rewritten). */
  private readonly movedTo?: string;
  private readonly outDir: string;
  private readonly copies = new Map<string, Promise<string>>();
  private constructor(
    readonly outPath: string,
    inputPath: string,
    private readonly out: fs.WriteStream,
    private readonly rejects: fs.WriteStream,
    private readonly changes?: fs.WriteStream,
  ) {
    this.rejectsPath = rejects.path as string;
    this.outDir = path.dirname(outPath);
    if (this.outDir !== path.dirname(path.resolve(inputPath))) this.movedTo = this.outDir;
    if (changes) {
      this.changesPath = changes.path as string;
      this.imagesDir = path.join(this.outDir, `${path.basename(outPath).replace(/\.jsonl?$/i, '')}.images`);
    }
  }

  /** True when kept lines are redacted (--redact-pii). */
  get redacting(): boolean {
    return this.changes !== undefined;
  }

  static async open(outPath: string, inputPath: string, options: { readonly redact?: boolean } = {}): Promise<FixWriter> {
    const out = path.resolve(outPath);
    const rejects = `${out}.rejects.jsonl`;
    const changes = options.redact ? `${out}.changes.jsonl` : undefined;
    for (const target of [out, rejects, ...(changes ? [changes] : [])]) {
      if (target === path.resolve(inputPath)) {
        throw new MmftError('E_INPUT', `--fix ${outPath} would overwrite the input ${inputPath}`, {
          hint: 'write the cleaned copy to another file',
        });
      }
    }
    const streams = [out, rejects, ...(changes ? [changes] : [])].map((f) => fs.createWriteStream(f));
    await Promise.all(
      streams.map(async (s) => {
        const [error] = (await Promise.race([once(s, 'open'), once(s, 'error')])) as [unknown];
        if (error instanceof Error) throw new MmftError('E_IO', `cannot write ${s.path as string}: ${error.message}`, { cause: error });
      }),
    );
    return new FixWriter(out, inputPath, streams[0]!, streams[1]!, streams[2]);
  }

  /**
   * Keep a line. `kept` (the parsed record, its resolved image, what the privacy check found)
   * lets a moved copy rewrite the image path and --redact-pii rewrite texts and the image; a line
   * nothing changes is written exactly as read.
   */
  async keep(text: string, kept?: KeptRecord): Promise<void> {
    this.kept += 1;
    let record = kept?.record;
    let changed = false;
    // Metadata-free copies made for this line: original file → copy.
    const copies = new Map<string, string>();
    if (this.changes && kept && record) {
      if (kept.personal && kept.personal.length > 0) {
        record = redactRecord(record, kept.personal);
        changed = true;
        this.redactedLines += 1;
        for (const f of kept.personal) {
          const found = f.spans.map((s) => ({ kind: s.kind, masked: maskPersonalData(s) }));
          await this.note({ line: kept.line, field: f.field, action: 'redacted', found });
        }
      }
      // Each image of a document or multi-image conversation is its own privacy finding.
      for (const image of kept.images) {
        if (!image.metadata) continue;
        const removed = describeImageMetadata(image.metadata);
        if (image.path) {
          const copy = await this.strippedCopy(image.path, image.hash);
          copies.set(image.path, copy);
          const [from, to] = [image.path, copy].map((p) => path.relative(this.outDir, p).split(path.sep).join('/'));
          await this.note({ line: kept.line, field: image.field, action: 'metadata-stripped', from: from!, to: to!, removed });
        } else {
          const reason = 'a data URL image is not rewritten';
          await this.note({ line: kept.line, field: image.field, action: 'metadata-kept', reason, found: removed });
        }
      }
    }
    // Every image file of the record ("image", "images.N", "segments.N.image", image_url parts).
    const files = (kept?.images ?? []).flatMap((i) => (i.path === undefined ? [] : [{ path: i.path, field: i.field }]));
    if (record && files.length > 0 && (this.movedTo || copies.size > 0)) {
      // A metadata-free copy is always beside OUT; otherwise absolute paths stay absolute.
      const moved = (original: string, resolved: string) => {
        const copy = copies.get(resolved);
        if (copy) return path.relative(this.outDir, copy).split(path.sep).join('/');
        return this.movedTo ? relocatedImagePath(original, resolved, this.outDir) : original;
      };
      const relocated = relocateImageFields(record, files, moved);
      if (relocated) [record, changed] = [relocated, true];
    }
    await write(this.out, `${changed && record ? JSON.stringify(record) : text}\n`);
  }

  /** The metadata-free copy of `source` in imagesDir (made once per source file). */
  private strippedCopy(source: string, hash: string): Promise<string> {
    let copy = this.copies.get(source);
    if (!copy) {
      copy = (async () => {
        const input = sharp(source);
        const format = (await input.metadata()).format ?? 'png';
        const ext = WRITABLE.has(format) ? path.extname(source) : '.png';
        const target = path.join(this.imagesDir!, `${hash.slice(0, 12)}-${path.basename(source, path.extname(source))}${ext}`);
        await fs.promises.mkdir(this.imagesDir!, { recursive: true });
        // Without withMetadata sharp writes no EXIF/XMP/IPTC; the orientation those held is applied
        // to the pixels first, and the colour profile (no personal data) is kept.
        const image = input.autoOrient().keepIccProfile();
        const encoded =
          format === 'jpeg'
            ? image.jpeg({ quality: 95 })
            : format === 'webp'
              ? image.webp({ quality: 95 })
              : WRITABLE.has(format)
                ? image.toFormat(format as keyof sharp.FormatEnum)
                : image.png();
        await encoded.toFile(target);
        this.strippedImages += 1;
        return target;
      })();
      this.copies.set(source, copy);
    }
    return copy;
  }

  private async note(change: ChangeRecord): Promise<void> {
    await write(this.changes!, `${JSON.stringify(change)}\n`);
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
      [this.out, this.rejects, ...(this.changes ? [this.changes] : [])].map(
        (s) => new Promise<void>((resolve, reject) => s.end((e?: Error | null) => (e ? reject(e) : resolve()))),
      ),
    );
  }
}

async function write(stream: fs.WriteStream, text: string): Promise<void> {
  if (!stream.write(text)) await once(stream, 'drain');
}
