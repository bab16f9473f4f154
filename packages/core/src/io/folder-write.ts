// Replaces a folder as a whole (model, checkpoint, dataset): everything is written and fsynced into
// a hidden `.<name>.tmp-*` sibling, the completion marker (folder-marker.ts) is written last, then
// the previous folder is renamed aside to `.<name>.old-*`, the new one renamed into place, and the
// old one deleted. A crash leaves the old or the new folder, never a mix; a kill between the two
// renames leaves both hidden copies, which the next write (or recoverFolder) puts back. Same idea
// as writeFileAtomic (atomic-write.ts) and HF Trainer's staging folder in _save_checkpoint.
import { randomBytes } from 'node:crypto';
import { mkdir, open, rename, rm, stat } from 'node:fs/promises';
import { dirname, resolve } from 'node:path';
import { MmftError } from '../errors';
import { releaseStaged, stagedName, writeFolderMarker } from './folder-marker';
import { recoverFolder, type FolderRecovery } from './folder-recover';

async function fsyncPath(path: string): Promise<void> {
  try {
    const handle = await open(path, 'r');
    try {
      await handle.sync();
    } finally {
      await handle.close();
    }
  } catch {
    /* folders cannot be opened for sync on every platform: best effort */
  }
}

/**
 * Writes `bytes` to a new file at `path` and fsyncs it (for files inside a staged folder).
 *
 * @example
 * await writeFileDurable(join(staged, 'config.json'), new TextEncoder().encode(text));
 */
export async function writeFileDurable(path: string, bytes: Uint8Array): Promise<void> {
  const handle = await open(path, 'wx');
  try {
    await handle.writeFile(bytes);
    await handle.sync();
  } finally {
    await handle.close();
  }
}

/** Options of `writeFolder`. */
export interface WriteFolderOptions {
  /** Recorded in the completion marker: "model", "dataset", "checkpoint"... */
  readonly kind: string;
  /** Told when an interrupted earlier write had to be repaired or cleaned up first. */
  readonly onRecover?: (recovery: FolderRecovery) => void;
}

/**
 * Runs `fill(staged)` on a new empty folder, marks it complete and swaps it in as `dir`.
 * The output-folder guard (`checkOutputFolder`) is the caller's job: this replaces what is there.
 *
 * @example
 * await writeFolder('out/model', async (staged) => writeFileDurable(join(staged, 'config.json'), bytes), { kind: 'model' });
 */
export async function writeFolder(dir: string, fill: (staged: string) => Promise<void>, options: WriteFolderOptions): Promise<void> {
  const target = resolve(dir);
  const recovery = await recoverFolder(target);
  if (recovery.restoredFrom || recovery.removed.length > 0) options.onRecover?.(recovery);
  const existing = await stat(target).catch(() => undefined);
  if (existing && !existing.isDirectory()) {
    throw new MmftError('E_IO', `cannot write the folder ${target}: a file of that name exists`, {
      hint: 'remove the file or choose another path',
    });
  }
  const tag = randomBytes(4).toString('hex');
  const staged = stagedName(target, 'tmp', tag);
  try {
    await mkdir(dirname(target), { recursive: true });
    await mkdir(staged);
    await fill(staged);
    await writeFolderMarker(staged, options.kind);
    await fsyncPath(staged);
  } catch (cause) {
    await rm(staged, { recursive: true, force: true }).catch(() => undefined);
    releaseStaged(staged);
    throw cause instanceof MmftError
      ? cause
      : new MmftError('E_IO', `could not write ${target}: ${(cause as Error).message}`, {
          cause,
          hint: 'check free space and permissions',
        });
  }
  const old = stagedName(target, 'old', tag);
  try {
    if (existing) await rename(target, old);
    try {
      await rename(staged, target);
    } catch (cause) {
      if (existing) await rename(old, target); // put the previous folder back
      throw cause;
    }
  } catch (cause) {
    await rm(staged, { recursive: true, force: true }).catch(() => undefined);
    throw new MmftError('E_IO', `could not move the new folder into ${target}: ${(cause as Error).message}`, { cause });
  } finally {
    releaseStaged(staged);
  }
  await fsyncPath(dirname(target));
  try {
    if (existing) await rm(old, { recursive: true, force: true });
  } finally {
    releaseStaged(old);
  }
}
