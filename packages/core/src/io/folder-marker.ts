// The small hidden file mmft writes last into every folder it writes as a whole (model, dataset,
// checkpoint). Its presence means two things: the folder is complete (it is the completion
// sentinel of the staged copy, like the `.complete` files of HF hub's snapshot cache), and mmft
// wrote it, as which kind, with which entries (what the output-folder guard may replace).
import * as fs from 'node:fs';
import * as path from 'node:path';

/** File name of the marker inside a folder mmft wrote. */
export const FOLDER_MARKER = '.mmft-folder.json';

/** Content of the marker. */
export interface FolderMarker {
  readonly format: 'mmft-folder';
  readonly version: 1;
  /** What the folder holds: "model", "dataset", "checkpoint"... */
  readonly kind: string;
  /** Top-level entries mmft wrote (the marker itself excluded), sorted. */
  readonly entries: readonly string[];
  /** ISO time the folder was completed; orders staged copies during recovery. */
  readonly written: string;
}

/**
 * The marker of `dir`, or undefined when it has none (or an unreadable one).
 *
 * @example
 * readFolderMarker('models/clip-merged')?.kind; // 'model'
 */
export function readFolderMarker(dir: string): FolderMarker | undefined {
  try {
    const value = JSON.parse(fs.readFileSync(path.join(dir, FOLDER_MARKER), 'utf8')) as Partial<FolderMarker>;
    if (value.format !== 'mmft-folder' || typeof value.kind !== 'string' || !Array.isArray(value.entries)) return undefined;
    return value as FolderMarker;
  } catch {
    return undefined;
  }
}

/** Writes the marker of `dir` listing its current entries, fsynced (call it last). */
export async function writeFolderMarker(dir: string, kind: string): Promise<void> {
  const entries = (await fs.promises.readdir(dir)).filter((e) => e !== FOLDER_MARKER).sort();
  const marker: FolderMarker = { format: 'mmft-folder', version: 1, kind, entries, written: new Date().toISOString() };
  const handle = await fs.promises.open(path.join(dir, FOLDER_MARKER), 'w');
  try {
    await handle.writeFile(`${JSON.stringify(marker, null, 2)}\n`);
    await handle.sync();
  } finally {
    await handle.close();
  }
}

/** A hidden sibling a folder write stages in: `.<name>.tmp-<pid>-<tag>` or `.<name>.old-<pid>-<tag>`. */
export interface StagedSibling {
  readonly path: string;
  readonly role: 'tmp' | 'old';
  readonly pid: number;
}

const STAGED = /^\.(.+)\.(tmp|old)-(\d+)-([0-9a-z]+)$/;

// Staged folders this process made: after a crash and restart a container often hands the new
// process the same pid, so "same pid" alone does not mean "ours".
const OWN = new Set<string>();

/** Name of a new staged sibling of `target`, remembered as this process's own until released. */
export function stagedName(target: string, role: 'tmp' | 'old', tag: string): string {
  const name = path.join(path.dirname(target), `.${path.basename(target)}.${role}-${process.pid}-${tag}`);
  OWN.add(name);
  return name;
}

/** Forget a staged sibling once it is renamed into place or removed. */
export function releaseStaged(name: string): void {
  OWN.delete(name);
}

/** The staged siblings of `target` found next to it. */
export function stagedSiblings(target: string): StagedSibling[] {
  const parent = path.dirname(target);
  let names: string[];
  try {
    names = fs.readdirSync(parent);
  } catch {
    return [];
  }
  const out: StagedSibling[] = [];
  for (const name of names) {
    const m = STAGED.exec(name);
    if (m && m[1] === path.basename(target)) out.push({ path: path.join(parent, name), role: m[2] as 'tmp' | 'old', pid: Number(m[3]) });
  }
  return out;
}

/** True while the write that made `sibling` may still run: then it is not stale. */
export function stagedInUse(sibling: StagedSibling): boolean {
  if (sibling.pid === process.pid) return OWN.has(sibling.path);
  try {
    process.kill(sibling.pid, 0);
    return true;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === 'EPERM';
  }
}
