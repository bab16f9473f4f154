// `mmft data split`: deterministic train/val/test files keyed by image *content* hash, so two
// records showing the same picture (even under different paths) always land in the same split.
// Images are ordered by a seeded hash and cut where the record counts reach the ratios, the way
// TFDS' hash-based splitting keeps splits stable. Memory: O(distinct images).
import { createHash } from 'node:crypto';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { once } from 'node:events';
import { MmftError, type TaskKind } from '@mmft/core';
import { outputFolderProblem, relocatedImagePath, relocateImageFields } from '../records/image-path';
import { ImageChecker } from '../validate/image-check';
import { resolveDataSource } from '../datasets/dataset-info';
import { runValidation } from '../validate/validate';
import type { AcceptedRecord } from '../validate/validate-file';

export interface SplitOptions {
  /** Folder that relative paths (file, outDir, root) resolve from; default process.cwd(). */
  readonly cwd?: string;
  /** Shares of train, val, test; must sum to 1 (e.g. [0.8, 0.1, 0.1]). */
  readonly ratios: readonly [number, number, number];
  readonly seed?: number;
  /** Output folder; defaults to the input's folder. Image paths are rewritten to stay valid. */
  readonly outDir?: string;
  readonly task?: TaskKind;
  /** Folder images must stay inside (as validate's --root); defaults to the data file's folder. */
  readonly root?: string;
  readonly allowOutsideRoot?: boolean;
  /** Overwrite existing output files. */
  readonly force?: boolean;
}

export interface SplitResult {
  readonly outputs: ReadonlyArray<{ readonly name: string; readonly file: string; readonly records: number; readonly images: number }>;
}

const NAMES = ['train', 'val', 'test'] as const;

/**
 * Split `file` into `<stem>.train.jsonl`, `<stem>.val.jsonl`, `<stem>.test.jsonl`. The input is
 * checked exactly as `mmft data validate` checks it (every image decoded) and any error stops the
 * split before a file is written, so the outputs validate and train as written.
 *
 * @example
 * const { outputs } = await splitFile('all.jsonl', { ratios: [0.8, 0.1, 0.1], seed: 0 });
 */
export async function splitFile(file: string, options: SplitOptions): Promise<SplitResult> {
  const { ratios } = options;
  if (ratios.length !== 3 || ratios.some((r) => !(r >= 0)) || Math.abs(ratios[0] + ratios[1] + ratios[2] - 1) > 1e-6) {
    throw new MmftError('E_INPUT', `ratios ${ratios.join(',')} must be three non-negative numbers summing to 1`, {
      hint: '--ratios 0.8,0.1,0.1',
    });
  }
  const cwd = options.cwd ?? process.cwd();
  // A dataset_info.json entry splits its data file; the parts keep that entry's columns and tags.
  const input = resolveDataSource(path.resolve(cwd, file)).file;
  const baseDir = path.dirname(input);
  const outDir = options.outDir === undefined ? baseDir : path.resolve(cwd, options.outDir);
  const root = options.root === undefined ? undefined : path.resolve(cwd, options.root);
  const stem = path.basename(input).replace(/\.jsonl?$/i, '');
  const problem = outputFolderProblem(input, outDir, { root, allowOutsideRoot: options.allowOutsideRoot });
  if (problem) {
    throw new MmftError('E_INPUT', `--out-dir ${options.outDir}: ${problem}`, {
      hint: `leave out --out-dir (the splits go next to the input), write them into ${baseDir} or a folder above it, or pass --root <folder holding the images> here and to validate and training (root: in the recipe)`,
    });
  }

  // The validator's own run, shared image cache: pass 2 reuses pass 1's decodes.
  const images = new ImageChecker('decode');
  const validation = { cwd, task: options.task, root: options.root, allowOutsideRoot: options.allowOutsideRoot, maxIssues: 1 };
  const each = (visit: (record: AcceptedRecord) => void | Promise<void>) =>
    runValidation([file], validation, { images, onRecord: (_, r) => visit(r) });

  // Records sharing any image form one group that goes to one split whole: a document or a
  // multi-image conversation ties its images together (union-find over image hashes). A record
  // with one image or none is its own key, as before.
  const parent = new Map<string, string>();
  const find = (key: string): string => {
    let root = key;
    while (parent.get(root) !== root) root = parent.get(root)!;
    for (let k = key; k !== root;) {
      const next = parent.get(k)!;
      parent.set(k, root);
      k = next;
    }
    return root;
  };
  const keysOf = (r: AcceptedRecord) => (r.imageHashes.length > 1 ? r.imageHashes : [r.imageHash]);
  const perKey = new Map<string, number>();
  const report = await each((r) => {
    const keys = keysOf(r);
    for (const k of keys) if (!parent.has(k)) parent.set(k, k);
    for (const k of keys.slice(1)) {
      const [a, b] = [find(keys[0]!), find(k)];
      if (a !== b) parent.set(b, a);
    }
    perKey.set(keys[0]!, (perKey.get(keys[0]!) ?? 0) + 1);
  });
  const counts = new Map<string, number>();
  for (const [key, n] of perKey) counts.set(find(key), (counts.get(find(key)) ?? 0) + n);
  if (report.errors > 0) {
    const first = report.issues.find((i) => i.severity === 'error')!;
    const more = report.errors > 1 ? ` (${report.errors} errors in all)` : '';
    throw new MmftError('E_DATA', `${first.line === undefined ? first.file : `${first.file}:${first.line}`}: ${first.message}${more}`, {
      hint: `run \`mmft data validate ${file} --fix clean.jsonl\` and split the cleaned file`,
    });
  }
  const assignment = assign(counts, ratios, options.seed ?? 0);

  const outputs = NAMES.map((name, i) => ({
    name,
    file: path.join(outDir, `${stem}.${name}.jsonl`),
    records: 0,
    images: 0,
    ratio: ratios[i]!,
  }));
  for (const [split, n] of assignment.values()) {
    outputs[split]!.images += 1;
    outputs[split]!.records += n;
  }
  for (const o of outputs) {
    if (o.file === input) throw new MmftError('E_INPUT', `output ${o.file} is the input file`, { hint: 'pass --out-dir' });
    if (o.ratio > 0 && o.records === 0) {
      // An empty file fails validation and training (no-records): refuse rather than write one.
      throw new MmftError(
        'E_DATA',
        `the ${o.name} split would hold no records: ${file} has ${counts.size} distinct image${counts.size === 1 ? '' : 's'}, too few for --ratios ${ratios.join(',')}`,
        {
          hint: 'give that split a ratio of 0 (--ratios 0.8,0.2,0), or add data',
        },
      );
    }
    if (o.ratio > 0 && !options.force && fs.existsSync(o.file)) {
      throw new MmftError('E_INPUT', `${o.file} exists`, { hint: 'pass --force to overwrite it, or --out-dir' });
    }
  }
  fs.mkdirSync(outDir, { recursive: true });
  const streams = outputs.map((o) => (o.ratio > 0 ? fs.createWriteStream(o.file) : undefined));
  try {
    await each(async (r) => {
      const stream = streams[assignment.get(find(keysOf(r)[0]!))![0]]!;
      // Image paths resolve from the data file's folder: rewrite them when the file moves.
      // Every image field is rewritten ("images.1", "segments.3.image", image_url parts), not only "image".
      const relocated =
        outDir === baseDir
          ? undefined
          : relocateImageFields(r.record, r.imageFiles, (original, file) => relocatedImagePath(original, file, outDir));
      const line = relocated ? JSON.stringify(relocated) : r.text;
      if (!stream.write(`${line}\n`)) await once(stream, 'drain');
    });
  } finally {
    await Promise.all(streams.map((s) => s && new Promise<void>((resolve) => s.end(resolve))));
  }
  return {
    outputs: outputs
      .filter((o) => o.ratio > 0)
      .map(({ name, file: f, records: n, images: m }) => ({ name, file: f, records: n, images: m })),
  };
}

/** Image hash → [split index, records]: seeded order, cut where cumulative record counts meet the ratios. */
function assign(counts: Map<string, number>, ratios: readonly number[], seed: number): Map<string, [number, number]> {
  const total = [...counts.values()].reduce((a, b) => a + b, 0);
  const keyed = [...counts.keys()].map((hash) => ({ hash, key: createHash('sha1').update(`${seed}\0${hash}`).digest('hex') }));
  keyed.sort((a, b) => (a.key < b.key ? -1 : a.key > b.key ? 1 : 0));
  const bounds = [ratios[0]! * total, (ratios[0]! + ratios[1]!) * total];
  const result = new Map<string, [number, number]>();
  let before = 0;
  for (const { hash } of keyed) {
    const n = counts.get(hash)!;
    const middle = before + n / 2;
    let split = middle < bounds[0]! ? 0 : middle < bounds[1]! ? 1 : 2;
    while (ratios[split] === 0) split = split === 2 ? (ratios[1] ? 1 : 0) : split + 1;
    result.set(hash, [split, n]);
    before += n;
  }
  return result;
}
