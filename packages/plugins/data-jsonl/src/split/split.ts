// `mmft data split`: deterministic train/val/test files keyed by image *content* hash, so two
// records showing the same picture (even under different paths) always land in the same split.
// Images are ordered by a seeded hash and cut where the record counts reach the ratios, the way
// TFDS' hash-based splitting keeps splits stable. Memory: O(distinct images).
import { createHash } from 'node:crypto';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { once } from 'node:events';
import { MmftError, type TaskKind } from '@mmft/core';
import { decodeLine, isBlank } from '../io/decode-line';
import { readLines } from '../io/read-lines';
import { checkRecord, detectTask, parseJsonLine } from '../records/parse-record';
import { ImageChecker } from '../validate/image-check';

export interface SplitOptions {
  /** Folder that relative paths (file, outDir) resolve from; default process.cwd(). */
  readonly cwd?: string;
  /** Shares of train, val, test; must sum to 1 (e.g. [0.8, 0.1, 0.1]). */
  readonly ratios: readonly [number, number, number];
  readonly seed?: number;
  /** Output folder; defaults to the input's folder. Image paths are rewritten to stay valid. */
  readonly outDir?: string;
  readonly task?: TaskKind;
  readonly allowOutsideRoot?: boolean;
  /** Overwrite existing output files. */
  readonly force?: boolean;
}

export interface SplitResult {
  readonly outputs: ReadonlyArray<{ readonly name: string; readonly file: string; readonly records: number; readonly images: number }>;
}

const NAMES = ['train', 'val', 'test'] as const;

/**
 * Split `file` into `<stem>.train.jsonl`, `<stem>.val.jsonl`, `<stem>.test.jsonl`.
 *
 * @example
 * const { outputs } = await splitFile('all.jsonl', { ratios: [0.8, 0.1, 0.1], seed: 0 });
 */
export async function splitFile(file: string, options: SplitOptions): Promise<SplitResult> {
  const { ratios } = options;
  if (ratios.length !== 3 || ratios.some((r) => !(r >= 0)) || Math.abs(ratios[0] + ratios[1] + ratios[2] - 1) > 1e-6) {
    throw new MmftError('E_INPUT', `ratios ${ratios.join(',')} must be three non-negative numbers summing to 1`, { hint: '--ratios 0.8,0.1,0.1' });
  }
  const cwd = options.cwd ?? process.cwd();
  const input = path.resolve(cwd, file);
  const baseDir = path.dirname(input);
  const outDir = options.outDir === undefined ? baseDir : path.resolve(cwd, options.outDir);
  const stem = path.basename(input).replace(/\.jsonl$/i, '');
  const images = new ImageChecker('hash');
  let task = options.task;

  // Pass 1 (and 2): every record with its image's content hash; invalid input stops the split.
  async function* records() {
    for await (const raw of readLines(input)) {
      const decoded = decodeLine(raw.bytes, raw.line === 1);
      const where = `${file}:${raw.line}`;
      const hint = `run \`mmft data validate ${file} --fix clean.jsonl\` and split the cleaned file`;
      if (!decoded.ok) throw new MmftError('E_DATA', `${where}: byte ${decoded.byteColumn} is not UTF-8`, { hint });
      if (isBlank(decoded.text)) continue;
      const parsed = parseJsonLine(decoded.text, raw.terminated);
      if (!parsed.ok) throw new MmftError('E_DATA', `${where}: ${parsed.issues[0]!.message}`, { hint });
      task ??= detectTask(parsed.record);
      if (!task) throw new MmftError('E_DATA', `${where}: cannot tell the task format`, { hint: 'pass --task' });
      const checked = checkRecord(task, parsed.record, { file, line: raw.line, policy: { baseDir, allowOutsideRoot: options.allowOutsideRoot } });
      if (!checked.ok) throw new MmftError('E_DATA', `${where}: ${checked.issues[0]!.message}`, { hint });
      const image = await images.check(checked.imagePath);
      if (!image.ok) throw new MmftError('E_DATA', `${where}: ${image.issue.message}`, { hint });
      yield { record: parsed.record, text: decoded.text, hash: image.info.hash, imagePath: checked.imagePath };
    }
  }

  const counts = new Map<string, number>();
  for await (const r of records()) counts.set(r.hash, (counts.get(r.hash) ?? 0) + 1);
  const assignment = assign(counts, ratios, options.seed ?? 0);

  const outputs = NAMES.map((name, i) => ({ name, file: path.join(outDir, `${stem}.${name}.jsonl`), records: 0, images: 0, ratio: ratios[i]! }));
  for (const o of outputs) {
    if (o.file === input) throw new MmftError('E_INPUT', `output ${o.file} is the input file`, { hint: 'pass --out-dir' });
    if (o.ratio > 0 && !options.force && fs.existsSync(o.file)) {
      throw new MmftError('E_INPUT', `${o.file} exists`, { hint: 'pass --force to overwrite it, or --out-dir' });
    }
  }
  for (const split of assignment.values()) outputs[split]!.images += 1;
  fs.mkdirSync(outDir, { recursive: true });
  const streams = outputs.map((o) => (o.ratio > 0 ? fs.createWriteStream(o.file) : undefined));
  try {
    for await (const r of records()) {
      const split = assignment.get(r.hash)!;
      const stream = streams[split]!;
      // Image paths are relative to the data file: rewrite them when the file moves.
      const line = outDir === baseDir ? r.text : JSON.stringify({ ...r.record, image: path.relative(outDir, r.imagePath).split(path.sep).join('/') });
      outputs[split]!.records += 1;
      if (!stream.write(`${line}\n`)) await once(stream, 'drain');
    }
  } finally {
    await Promise.all(streams.map((s) => s && new Promise<void>((resolve) => s.end(resolve))));
  }
  return { outputs: outputs.filter((o) => o.ratio > 0).map(({ name, file: f, records: n, images: m }) => ({ name, file: f, records: n, images: m })) };
}

/** Image hash → split index: seeded order, cut where cumulative record counts meet the ratios. */
function assign(counts: Map<string, number>, ratios: readonly number[], seed: number): Map<string, number> {
  const total = [...counts.values()].reduce((a, b) => a + b, 0);
  const keyed = [...counts.keys()].map((hash) => ({ hash, key: createHash('sha1').update(`${seed}\0${hash}`).digest('hex') }));
  keyed.sort((a, b) => (a.key < b.key ? -1 : a.key > b.key ? 1 : 0));
  const bounds = [ratios[0]! * total, (ratios[0]! + ratios[1]!) * total];
  const result = new Map<string, number>();
  let before = 0;
  for (const { hash } of keyed) {
    const n = counts.get(hash)!;
    const middle = before + n / 2;
    let split = middle < bounds[0]! ? 0 : middle < bounds[1]! ? 1 : 2;
    while (ratios[split] === 0) split = split === 2 ? (ratios[1] ? 1 : 0) : split + 1;
    result.set(hash, split);
    before += n;
  }
  return result;
}
