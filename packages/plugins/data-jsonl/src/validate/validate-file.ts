// Validates one JSONL file in a single streaming pass. Lines are parsed and schema-checked as
// they arrive; image checks run up to WINDOW at a time (sharp decodes on libuv threads) and
// results are settled in line order, so reports and --fix output follow the input order.
import { createHash } from 'node:crypto';
import type { TaskKind } from '@mmft/core';
import { decodeLine, isBlank } from '../io/decode-line';
import { isJsonArrayFile, readJsonArray } from '../io/json-array';
import { readLines } from '../io/read-lines';
import type { ImagePathPolicy } from '../records/image-path';
import type { ShareGptLayout } from '../records/instruction';
import type { RecordIssue } from '../records/issue';
import { checkRecord, detectTask, parseJsonLine, TASKS } from '../records/parse-record';
import type { RecordView } from '../records/task-format';
import type { FixWriter } from './fix-writer';
import type { ImageChecker, ImageInfo, ImageResult } from './image-check';
import { dropsLine, severityOf, type Issue } from './messages';
import { findRecordPersonalData, imageMetadataIssue, personalDataIssue, type PrivacyCounter, type TextFinding } from './privacy';
import { StatsAccumulator, type DataStats } from './stats';

const WINDOW = 16;

/** State shared by the files of one run: the image cache and, for several files, split owners. */
export interface RunState {
  readonly images: ImageChecker;
  /** image hash → the file (index) and line that first used it; set when leakage is checked. */
  readonly owners?: Map<string, { readonly file: number; readonly line: number }>;
  readonly files: readonly string[];
  /** Set when texts and images are checked for personal data (counts for the report). */
  readonly privacy?: PrivacyCounter;
}

/** A line the validator accepts (no error; warnings allowed), in file order. */
export interface AcceptedRecord {
  readonly line: number;
  /** The line as read (UTF-8, no BOM, no line end). */
  readonly text: string;
  readonly record: Record<string, unknown>;
  /** Absolute path the first image resolved to; absent for records without an image file (text, text-only conversations, data URLs). */
  readonly imagePath?: string;
  /** Every image file of the record and the field it was written in ("segments.2.image"), for rewriting paths when the file moves. */
  readonly imageFiles: readonly { readonly path: string; readonly field: string }[];
  /**
   * Content hash of the image (ImageInfo.hash; of all images, in order, for a record with several);
   * for a record without an image, a hash of its texts, so that splitting and leakage checks group
   * identical texts as they group identical images.
   */
  readonly imageHash: string;
  /** Content hash of each image, in order (empty without images): split keeps records sharing any image together. */
  readonly imageHashes: readonly string[];
}

export interface FileRunOptions {
  readonly fileIndex: number;
  readonly task?: TaskKind;
  readonly policy: ImagePathPolicy;
  /** Columns and tags of the LLaMA-Factory dataset_info.json entry naming the file. */
  readonly layout?: ShareGptLayout;
  readonly maxAnswerShare: number;
  readonly fix?: FixWriter;
  readonly emit: (issue: Issue) => void;
  /** Called for every accepted line, in order (`mmft data split` builds on this). */
  readonly onRecord?: (record: AcceptedRecord) => void | Promise<void>;
}

interface Pending {
  readonly line: number;
  readonly element?: number;
  readonly text: string;
  readonly bytes?: Uint8Array;
  readonly issues: RecordIssue[];
  readonly view?: RecordView;
  readonly record?: Record<string, unknown>;
  /** Every image of the record in reading order, each checked (cached per file or data URL). */
  readonly images: readonly PendingImage[];
  readonly personal?: readonly TextFinding[];
}

interface PendingImage {
  /** Absent for a data URL. */
  readonly path?: string;
  readonly field: string;
  readonly result: Promise<ImageResult>;
}

/** Validate `file`; issues go to `options.emit`, the file's statistics are returned. */
export async function validateFile(file: string, state: RunState, options: FileRunOptions): Promise<DataStats> {
  const stats = new StatsAccumulator(file);
  stats.task = options.task;
  // Memory: one short key per kept record (duplicates) and per VQA image+question (conflicts).
  const seen = new Map<string, number>();
  const answered = new Map<string, { answer: string; line: number }>();
  const queue: Pending[] = [];
  let errors = 0;
  const emit = (line: number | undefined, issue: RecordIssue, element?: number) => {
    if (severityOf(issue.code) === 'error') errors += 1;
    const at = line === undefined ? {} : { line, ...(element === undefined ? {} : { element }) };
    options.emit({ ...issue, severity: severityOf(issue.code), file, ...at });
  };

  const prepare = (line: number, bytes: Uint8Array, terminated: boolean, element?: number, problem?: string): Pending => {
    const decoded = decodeLine(bytes, line === 1 && element === undefined);
    if (!decoded.ok) {
      const message = `byte ${decoded.byteColumn} is not UTF-8; re-save the file as UTF-8 (iconv -f <encoding> -t utf-8)`;
      return { line, element, text: decoded.lossy, bytes, images: [], issues: [{ code: 'non-utf8', message }] };
    }
    let text = decoded.text;
    if (problem !== undefined) return { line, element, text, images: [], issues: [{ code: 'invalid-json', message: problem }] };
    if (isBlank(text))
      return { line, text, images: [], issues: [{ code: 'blank-line', message: 'empty line; JSONL holds one record per line' }] };
    const parsed = parseJsonLine(text, terminated);
    if (!parsed.ok) {
      const issues =
        element === undefined
          ? parsed.issues
          : parsed.issues.map((i) => ({ ...i, message: i.message.replace('each line must', 'each element must') }));
      return { line, element, text, images: [], issues };
    }
    // Copies (--fix, split) are JSONL: an array element, perhaps spread over lines, becomes one line.
    if (element !== undefined) text = JSON.stringify(parsed.record);
    if (!stats.task) stats.task = detectTask(parsed.record);
    if (!stats.task) {
      const keys = JSON.stringify(Object.keys(parsed.record));
      return {
        line,
        text,
        element,
        images: [],
        issues: [{ code: 'unknown-task', message: `keys ${keys} match no task format (${TASKS.join(', ')}); pass --task` }],
      };
    }
    const checked = checkRecord(stats.task, parsed.record, { file, line, element, policy: options.policy, layout: options.layout });
    if (!checked.ok) return { line, element, text, images: [], issues: checked.issues };
    const issues: RecordIssue[] = [];
    const example = checked.view.example;
    if (example.task === 'vqa' && example.answers && example.answers.length !== 10) {
      issues.push({
        code: 'answers-count',
        field: 'answers',
        message: `field "answers" has ${example.answers.length} answers; VQA accuracy assumes the 10 human answers of VQA v2`,
      });
    }
    const personal = state.privacy ? findRecordPersonalData(parsed.record) : [];
    state.privacy?.addLine(personal);
    issues.push(...personal.map(personalDataIssue));
    // Every image is checked, not only the first: a document's fifth image is as needed as its first.
    const images = checked.images.map(({ ref, path, field }): PendingImage => {
      if (ref.kind === 'bytes') return { field, result: state.images.checkBytes(ref.key, ref.bytes) };
      return { path: path ?? ref.path, field, result: state.images.check(path ?? ref.path) };
    });
    return {
      line,
      element,
      text,
      issues,
      view: checked.view,
      record: parsed.record,
      images,
      ...(personal.length > 0 ? { personal } : {}),
    };
  };

  const settle = async (entry: Pending): Promise<void> => {
    const { line, issues, view } = entry;
    const results = await Promise.all(entry.images.map((i) => i.result));
    const infos: ImageInfo[] = [];
    results.forEach((result, i) => {
      const image = entry.images[i]!;
      // The checker caches by file, so the field is the record's own ("images.0", "segments.3.image").
      // With several images the message names which one ("segments.3.image"), as schema issues do.
      const named = entry.images.length > 1 ? `field "${image.field}": ` : '';
      if (!result.ok) return void issues.push({ ...result.issue, field: image.field, message: `${named}${result.issue.message}` });
      infos.push(result.info);
      // One warning per image (at the first line using it), however many lines share it.
      const metadata = result.info.privacy;
      if (metadata && state.privacy && !result.info.privacyReported) {
        result.info.privacyReported = true;
        state.privacy.images += 1;
        const what = image.path === undefined ? 'the data URL image' : `image ${image.path}`;
        issues.push(imageMetadataIssue(what, metadata, image.field));
      }
    });
    const imagesOk = infos.length === entry.images.length;
    // What identifies the record's content for duplicates, leakage and splits: its image (all of
    // them, in order), or for a record without one (text, text-only conversations) its texts.
    const textOnly = view !== undefined && entry.images.length === 0;
    const contentHash = !imagesOk
      ? undefined
      : textOnly
        ? digest('text', JSON.stringify(view.texts))
        : infos.length === 1
          ? infos[0]!.hash
          : infos.length > 1
            ? digest('images', infos.map((i) => i.hash).join(','))
            : undefined;
    if (view && contentHash !== undefined) {
      for (const info of infos) {
        if (info.countedIn === options.fileIndex) continue;
        info.countedIn = options.fileIndex;
        stats.addImage(info);
      }
      const key = digest(contentHash, JSON.stringify(view.texts));
      const first = seen.get(key);
      const same = textOnly ? 'same text' : 'same image content and text';
      if (first !== undefined) issues.push({ code: 'duplicate', message: `${same} as line ${first}` });
      else seen.set(key, line);
      if (view.vqa) {
        const qKey = digest(contentHash, view.vqa.question.trim().toLowerCase());
        const answer = view.vqa.answer.trim().toLowerCase();
        const earlier = answered.get(qKey);
        if (!earlier) answered.set(qKey, { answer, line });
        else if (earlier.answer !== answer) {
          issues.push({
            code: 'conflicting-answer',
            field: 'answer',
            message: `line ${earlier.line} answers the same image and question with "${earlier.answer}", this line with "${answer}"`,
          });
        }
      }
      // An image is owned by one split, whichever record holds it: each image of a document counts.
      const ownerKeys = textOnly || infos.length === 1 ? [contentHash] : infos.map((i) => i.hash);
      const owned = ownerKeys.map((k) => state.owners?.get(k)).find((o) => o && o.file !== options.fileIndex);
      const owner = owned ?? state.owners?.get(ownerKeys[0]!);
      if (owner && owner.file !== options.fileIndex) {
        const where = `${state.files[owner.file]}:${owner.line}`;
        issues.push(
          textOnly
            ? {
                code: 'leakage',
                message: `the same text is in ${where}; a text must be in one split only (use mmft data split)`,
              }
            : {
                code: 'leakage',
                field: 'image',
                message: `the same image content is used by ${where}; an image must be in one split only (use mmft data split)`,
              },
        );
      } else if (state.owners) for (const k of ownerKeys) if (!state.owners.has(k)) state.owners.set(k, { file: options.fileIndex, line });
    }
    for (const issue of issues) emit(line, issue, entry.element);
    const dropped = issues.some((i) => dropsLine(i.code));
    const imageFiles = entry.images.flatMap((i) => (i.path === undefined ? [] : [{ path: i.path, field: i.field }]));
    const first = entry.images[0];
    if (view && contentHash !== undefined && options.onRecord && !issues.some((i) => severityOf(i.code) === 'error')) {
      const imagePath = first?.path === undefined ? {} : { imagePath: first.path };
      await options.onRecord({
        line,
        text: entry.text,
        record: entry.record!,
        ...imagePath,
        imageFiles,
        imageHash: contentHash,
        imageHashes: infos.map((i) => i.hash),
      });
    }
    if (!dropped && view) {
      stats.records += 1;
      stats.addTexts(view.texts);
      if (infos.length > 0) stats.addImagesPerRecord(infos.length);
      if (view.vqa) stats.addAnswer(view.vqa.answer);
      await options.fix?.keep(
        entry.text,
        entry.record && {
          line,
          record: entry.record,
          images: infos.map((info, i) => {
            const { path, field } = entry.images[i]!;
            return { ...(path === undefined ? {} : { path }), field, hash: info.hash, ...(info.privacy ? { metadata: info.privacy } : {}) };
          }),
          ...(entry.personal ? { personal: entry.personal } : {}),
        },
      );
    } else {
      stats.rejected += 1;
      await options.fix?.reject(line, issues, entry.text, entry.bytes);
    }
  };

  const array = await isJsonArrayFile(file).catch(() => false);
  const source = array ? readJsonArray(file) : readLines(file);
  for await (const raw of source) {
    stats.lines += 1;
    const element = 'index' in raw ? raw : undefined;
    queue.push(prepare(raw.line, raw.bytes, 'terminated' in raw ? raw.terminated : true, element?.index, element?.problem));
    while (queue.length >= WINDOW) await settle(queue.shift()!);
  }
  while (queue.length > 0) await settle(queue.shift()!);

  if (stats.records === 0 && errors === 0) emit(undefined, { code: 'no-records', message: 'the file holds no records' });
  const result = stats.result();
  const answers = result.answers;
  if (answers && stats.records >= 20 && answers.topShare > options.maxAnswerShare) {
    const [top, count] = answers.top[0]!;
    emit(undefined, {
      code: 'answer-imbalance',
      field: 'answer',
      message: `"${top}" is ${(answers.topShare * 100).toFixed(1)}% of answers (${count} of ${stats.records}), above ${(options.maxAnswerShare * 100).toFixed(0)}%; a model can score well by always answering it — rebalance or report per-answer accuracy`,
    });
  }
  return result;
}

function digest(a: string, b: string): string {
  return createHash('sha1').update(a).update('\0').update(b).digest('base64').slice(0, 16);
}
