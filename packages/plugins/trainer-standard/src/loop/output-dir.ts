// The run's output folder: created one level at a time so a failure names its real cause and
// path, file-system errors turned into messages that say which file and why, and the empty
// leftovers of a failed run removed again.
import * as fs from 'node:fs/promises';
import * as path from 'node:path';
import { MmftError } from '@mmft/core';
import { ioError } from '@mmft/core/io';

export { ioError };

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
