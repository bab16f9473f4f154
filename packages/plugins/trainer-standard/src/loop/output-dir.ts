// The run's output folder: created one level at a time so a failure names its real cause and
// path, file-system errors turned into messages that say which file and why, and the empty
// leftovers of a failed run removed again.
import * as fs from 'node:fs/promises';
import * as path from 'node:path';
import { MmftError } from '@mmft/core';

const CAUSES: Readonly<Record<string, readonly [reason: string, hint: string]>> = {
  ENOSPC: ['no space left on the device', 'free disk space there, or choose another output folder with --output'],
  EDQUOT: ['the disk quota is exhausted', 'free space within your quota, or choose another output folder with --output'],
  EROFS: ['it is on a read-only file system', 'choose a writable output folder with --output (or output_dir in the recipe)'],
  EACCES: ['permission denied', 'choose a folder you can write to with --output (or output_dir in the recipe), or fix its permissions'],
  EPERM: ['operation not permitted', 'choose a folder you can write to with --output (or output_dir in the recipe)'],
  ENOTDIR: ['a part of the path is a file, not a folder', 'choose another output folder with --output'],
};

/**
 * An `E_IO` error for a failed file-system call on `file`: the reason in words and the errno code.
 *
 * @example
 * throw ioError('write', '/runs/x/metrics.jsonl', error); // "cannot write /runs/x/metrics.jsonl: no space left on the device (ENOSPC)"
 */
export function ioError(action: string, file: string, cause: unknown): MmftError {
  if (cause instanceof MmftError) return cause;
  const code = (cause as NodeJS.ErrnoException | undefined)?.code;
  const known = code ? CAUSES[code] : undefined;
  const reason = known ? `${known[0]} (${code})` : ((cause as Error | undefined)?.message ?? String(cause));
  return new MmftError('E_IO', `cannot ${action} ${file}: ${reason}`, { cause, hint: known?.[1] });
}

/**
 * Create `dir` and its missing parents. Node's recursive mkdir reports ENOENT where a parent
 * cannot be created on a read-only file system; one level at a time, each call fails with its
 * own reason (EROFS, EACCES, ENOSPC) and names the folder it could not create.
 *
 * @returns the outermost folder this call created, if any (a failed run removes it again when
 * it is still empty)
 */
export async function createOutputDir(dir: string): Promise<string | undefined> {
  const missing: string[] = [];
  for (let at = path.resolve(dir); ; at = path.dirname(at)) {
    const stat = await fs
      .stat(at)
      .catch((error: NodeJS.ErrnoException) => (error.code === 'ENOENT' ? undefined : Promise.reject(ioError('open', at, error))));
    if (stat?.isDirectory()) break;
    if (stat)
      throw new MmftError('E_IO', `cannot create the output folder ${dir}: ${at} is a file`, {
        hint: 'choose another output folder with --output',
      });
    missing.unshift(at);
    if (path.dirname(at) === at) break;
  }
  for (const folder of missing) {
    const error = await fs.mkdir(folder).then(
      () => undefined,
      (e: NodeJS.ErrnoException) => (e.code === 'EEXIST' ? undefined : e),
    );
    if (error) {
      const failure = ioError('create', folder, error);
      throw new MmftError(
        'E_IO',
        folder === path.resolve(dir) ? failure.message : `${failure.message}, the parent of the output folder ${dir}`,
        { cause: error, hint: failure.hint },
      );
    }
  }
  return missing[0];
}

/**
 * After a failed run: remove the files it left empty (metrics.jsonl, report.html), an empty
 * features/ folder, and the folders this run created (`createdRoot` down to `dir`) when they are
 * empty now. Anything with content (checkpoints, a curve, a feature cache) stays.
 */
export async function removeEmptyLeftovers(dir: string, createdRoot: string | undefined): Promise<void> {
  const removeIfEmptyFile = async (file: string) => {
    const stat = await fs.stat(file).catch(() => undefined);
    if (stat?.isFile() && stat.size === 0) await fs.rm(file, { force: true }).catch(() => undefined);
  };
  await removeIfEmptyFile(path.join(dir, 'metrics.jsonl'));
  await removeIfEmptyFile(path.join(dir, 'report.html'));
  await fs.rmdir(path.join(dir, 'features')).catch(() => undefined); // rmdir only removes empty folders
  if (!createdRoot) return;
  for (let at = path.resolve(dir); at.startsWith(createdRoot); at = path.dirname(at)) {
    if (
      !(await fs.rmdir(at).then(
        () => true,
        () => false,
      ))
    )
      break;
    if (at === createdRoot) break;
  }
}
