// `mmft data validate` as a function: validates one or several JSONL files (the splits of one
// dataset are also checked for leakage), optionally writing a cleaned copy, and returns the report.
// `mmft data split` and `stats` run the same checks, so every data tool refuses the same lines.
// Memory bound (documented in docs/data.md): O(distinct images) + ~100 bytes per record.
import * as path from 'node:path';
import { hashFile, manifestPathFor, MmftError, readDataManifest, verifyDataManifest, writeDataManifest, type TaskKind } from '@mmft/core';
import { resolveDataSource } from '../datasets/dataset-info';
import { outputFolderProblem } from '../records/image-path';
import { FixWriter } from './fix-writer';
import { ImageChecker, type ImageCheckMode } from './image-check';
import type { Issue, MessageCode } from './messages';
import { PrivacyCounter, type PrivacySummary } from './privacy';
import type { DataStats } from './stats';
import { validateFile, type AcceptedRecord, type RunState } from './validate-file';

export interface ValidateOptions {
  /** Folder that relative file names (inputs, fix, root) resolve from; default process.cwd(). */
  readonly cwd?: string;
  /** Task format; detected per file from its first record when absent. */
  readonly task?: TaskKind;
  /** Folder images must stay inside; defaults to each data file's folder. */
  readonly root?: string;
  readonly allowOutsideRoot?: boolean;
  /** The files are the splits (train/val/test) of one dataset: an image in two of them is an error. */
  readonly splits?: boolean;
  /** Write a cleaned copy here (one input file only) plus `<fix>.rejects.jsonl` and `<fix>.manifest.json`. */
  readonly fix?: string;
  /** With `fix`: replace personal data in kept lines by `[EMAIL]`, `[PHONE]`, … and copy images with identifying metadata without it (`<fix>.changes.jsonl` lists each change). */
  readonly redactPii?: boolean;
  /** Look for personal data in texts and image metadata (warnings); default true. */
  readonly personalData?: boolean;
  /** A data file that no longer matches its `<file>.manifest.json`: check (an error, the default), accept (a warning) or ignore. */
  readonly dataManifest?: 'check' | 'accept' | 'ignore';
  /** decode (default): fully decode every image; header: read sizes only (stats). */
  readonly imageMode?: ImageCheckMode;
  /** Warn when one VQA answer is more than this share of all answers (default 0.5). */
  readonly maxAnswerShare?: number;
  /** Issues kept in the report (all are still counted and passed to onIssue); default 1000. */
  readonly maxIssues?: number;
  readonly onIssue?: (issue: Issue) => void;
}

export interface ValidationReport {
  readonly files: readonly DataStats[];
  readonly errors: number;
  readonly warnings: number;
  readonly byCode: Partial<Record<MessageCode, number>>;
  readonly issues: readonly Issue[];
  /** Issues counted but not kept in `issues` (over maxIssues). */
  readonly omittedIssues: number;
  readonly fix?: {
    readonly out: string;
    readonly rejects: string;
    readonly kept: number;
    readonly dropped: number;
    /** The manifest written for `out`. */
    readonly manifest: string;
    /** With --redact-pii: where the changes are listed, lines redacted and images copied without metadata. */
    readonly redacted?: { readonly changes: string; readonly images: string; readonly lines: number; readonly imageCopies: number };
  };
  /** Personal data found (absent when the check is off). */
  readonly privacy?: PrivacySummary;
}

/**
 * Validate data files.
 *
 * @example
 * const report = await validateFiles(['train.jsonl', 'val.jsonl']);
 * if (report.errors > 0) process.exitCode = 1;
 */
export function validateFiles(files: readonly string[], options: ValidateOptions = {}): Promise<ValidationReport> {
  return runValidation(files, options);
}

/** What the other data tools add to a validation run: a shared image cache, the accepted lines. */
export interface ValidationHooks {
  /** Reuse decoded images across runs over the same files (split reads its input twice). */
  readonly images?: ImageChecker;
  readonly onRecord?: (fileIndex: number, record: AcceptedRecord) => void | Promise<void>;
}

/** validateFiles with hooks; not exported from the package. */
export async function runValidation(
  files: readonly string[],
  options: ValidateOptions,
  hooks: ValidationHooks = {},
): Promise<ValidationReport> {
  if (files.length === 0) throw new MmftError('E_INPUT', 'no data file given', { hint: 'mmft data validate train.jsonl' });
  if (options.fix !== undefined && files.length > 1) {
    throw new MmftError('E_INPUT', `--fix writes one cleaned file, but ${files.length} files were given`, {
      hint: 'run --fix once per file',
    });
  }
  if (options.redactPii && options.fix === undefined) {
    throw new MmftError('E_INPUT', '--redact-pii rewrites the --fix copy, but no --fix OUT was given', {
      hint: 'mmft data validate train.jsonl --fix clean.jsonl --redact-pii',
    });
  }
  const cwd = options.cwd ?? process.cwd();
  // "dataset_info.json#name" reads the entry's file with its columns and tags; issues name that file.
  const sources = files.map((f) => resolveDataSource(path.resolve(cwd, f)));
  const resolved = sources.map((s) => s.file);
  files = files.map((f, i) => (sources[i]!.layout ? path.relative(cwd, resolved[i]!) : f));
  const root = options.root === undefined ? undefined : path.resolve(cwd, options.root);
  const state: RunState = {
    images: hooks.images ?? new ImageChecker(options.imageMode ?? 'decode'),
    files: files.slice(),
    ...(options.splits ? { owners: new Map() } : {}),
    ...(options.personalData === false ? {} : { privacy: new PrivacyCounter() }),
  };
  const maxIssues = options.maxIssues ?? 1000;
  const issues: Issue[] = [];
  const byCode: Partial<Record<MessageCode, number>> = {};
  let errors = 0;
  let warnings = 0;
  let omitted = 0;
  const emit = (issue: Issue) => {
    byCode[issue.code] = (byCode[issue.code] ?? 0) + 1;
    if (issue.severity === 'error') errors += 1;
    else warnings += 1;
    if (issues.length < maxIssues) issues.push(issue);
    else omitted += 1;
    options.onIssue?.(issue);
  };
  if (options.fix !== undefined) {
    const problem = outputFolderProblem(resolved[0]!, path.dirname(path.resolve(cwd, options.fix)), {
      root,
      allowOutsideRoot: options.allowOutsideRoot,
    });
    if (problem) {
      throw new MmftError('E_INPUT', `--fix ${options.fix}: ${problem}`, {
        hint: `write the cleaned copy into ${path.dirname(resolved[0]!)} or a folder above it, or pass --root <folder holding the images> here and to validate and training (root: in the recipe)`,
      });
    }
  }
  const fix =
    options.fix === undefined
      ? undefined
      : await FixWriter.open(path.resolve(cwd, options.fix), resolved[0]!, { redact: options.redactPii });
  const stats: DataStats[] = [];
  try {
    for (const [fileIndex, file] of resolved.entries()) {
      const changed = await manifestIssue(file, files[fileIndex]!, options.dataManifest ?? 'check');
      if (changed) emit(changed);
      stats.push(
        await validateFile(file, state, {
          fileIndex,
          task: sources[fileIndex]!.layout ? 'instruction' : options.task,
          ...(sources[fileIndex]!.layout ? { layout: sources[fileIndex]!.layout } : {}),
          policy: { baseDir: path.dirname(file), root, allowOutsideRoot: options.allowOutsideRoot },
          maxAnswerShare: options.maxAnswerShare ?? 0.5,
          fix,
          emit: (issue) => emit({ ...issue, file: files[fileIndex]! }),
          ...(hooks.onRecord ? { onRecord: (record: AcceptedRecord) => hooks.onRecord!(fileIndex, record) } : {}),
        }),
      );
    }
  } finally {
    await fix?.close();
  }
  const manifest = fix ? await writeFixManifest(fix, resolved[0]!) : undefined;
  return {
    files: stats.map((s, i) => ({ ...s, file: files[i]! })),
    errors,
    warnings,
    byCode,
    issues,
    omittedIssues: omitted,
    ...(fix && manifest
      ? {
          fix: {
            out: fix.outPath,
            rejects: fix.rejectsPath,
            kept: fix.kept,
            dropped: fix.dropped,
            manifest,
            ...(fix.changesPath
              ? {
                  redacted: { changes: fix.changesPath, images: fix.imagesDir!, lines: fix.redactedLines, imageCopies: fix.strippedImages },
                }
              : {}),
          },
        }
      : {}),
    ...(state.privacy ? { privacy: state.privacy.summary() } : {}),
  };
}

/** The file-level issue for a data file that no longer matches its manifest (none without a manifest). */
async function manifestIssue(file: string, shown: string, mode: 'check' | 'accept' | 'ignore'): Promise<Issue | undefined> {
  if (mode === 'ignore') return undefined;
  const check = await verifyDataManifest(file);
  if (check.ok) return undefined;
  const what = `${shown} no longer matches ${path.basename(manifestPathFor(file))}: ${check.changed.join('; ')}`;
  return mode === 'accept'
    ? { code: 'data-changed-accepted', severity: 'warning', file: shown, message: `${what} (accepted by --accept-data-change)` }
    : {
        code: 'data-changed',
        severity: 'error',
        file: shown,
        message: `${what}; if the change is intended, pass --accept-data-change or rewrite the manifest (mmft data manifest ${shown})`,
      };
}

/**
 * The manifest of a --fix copy: it keeps the input's licence and says what it was made from,
 * so training on the copy can be traced to the original (core trust/manifest.ts).
 */
async function writeFixManifest(fix: FixWriter, input: string): Promise<string> {
  const [original, hash] = await Promise.all([readDataManifest(input), hashFile(input)]);
  const from = path.relative(path.dirname(fix.outPath), input).split(path.sep).join('/');
  const source = {
    generator: 'mmft data validate --fix',
    input: from,
    input_sha256: hash.sha256,
    redacted_personal_data: fix.redacting,
  };
  const written = await writeDataManifest(fix.outPath, { source, ...(original?.license ? { license: original.license } : {}) });
  return written.path;
}
