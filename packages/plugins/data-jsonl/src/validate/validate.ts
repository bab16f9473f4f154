// `mmft data validate` as a function: validates one or several JSONL files (the splits of one
// dataset are also checked for leakage), optionally writing a cleaned copy, and returns the report.
// `mmft data split` and `stats` run the same checks, so every data tool refuses the same lines.
// Memory bound (documented in docs/data.md): O(distinct images) + ~100 bytes per record.
import * as path from 'node:path';
import { MmftError, type TaskKind } from '@mmft/core';
import { resolveDataSource } from '../datasets/dataset-info';
import { outputFolderProblem } from '../records/image-path';
import { FixWriter } from './fix-writer';
import { ImageChecker, type ImageCheckMode } from './image-check';
import type { Issue, MessageCode } from './messages';
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
  /** Write a cleaned copy here (one input file only) plus `<fix>.rejects.jsonl`. */
  readonly fix?: string;
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
  readonly fix?: { readonly out: string; readonly rejects: string; readonly kept: number; readonly dropped: number };
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
  const fix = options.fix === undefined ? undefined : await FixWriter.open(path.resolve(cwd, options.fix), resolved[0]!);
  const stats: DataStats[] = [];
  try {
    for (const [fileIndex, file] of resolved.entries()) {
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
  return {
    files: stats.map((s, i) => ({ ...s, file: files[i]! })),
    errors,
    warnings,
    byCode,
    issues,
    omittedIssues: omitted,
    ...(fix ? { fix: { out: fix.outPath, rejects: fix.rejectsPath, kept: fix.kept, dropped: fix.dropped } } : {}),
  };
}
