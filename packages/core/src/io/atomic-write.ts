// Writing a file so that readers see either the old file or the complete new one, never a torn
// write: data goes to `<path>.tmp-<pid>-<random>` in the same folder, is fsynced, then renamed
// over `path` (rename is atomic within a filesystem), as write-file-atomic and HF's hub do.

import { randomBytes } from 'node:crypto';
import { open, rename, rm } from 'node:fs/promises';
import { dirname } from 'node:path';
import { MmftError } from '../errors';

async function syncDirectory(folder: string): Promise<void> {
  // Makes the rename itself durable on Linux; platforms that cannot open folders skip it.
  try {
    const handle = await open(folder, 'r');
    try {
      await handle.sync();
    } finally {
      await handle.close();
    }
  } catch {
    /* best effort */
  }
}

/**
 * Writes `chunks` in order to `path` atomically.
 *
 * @example
 * await writeFileAtomic('out/model.safetensors', [header, ...tensorBytes]);
 */
export async function writeFileAtomic(path: string, chunks: Iterable<Uint8Array>): Promise<void> {
  const temp = `${path}.tmp-${process.pid}-${randomBytes(6).toString('hex')}`;
  let handle: Awaited<ReturnType<typeof open>> | undefined;
  try {
    handle = await open(temp, 'wx');
    for (const chunk of chunks) {
      let done = 0;
      while (done < chunk.length) {
        const { bytesWritten } = await handle.write(chunk, done, Math.min(chunk.length - done, 1 << 30));
        done += bytesWritten;
      }
    }
    await handle.sync();
    await handle.close();
    handle = undefined;
    await rename(temp, path);
  } catch (cause) {
    await handle?.close().catch(() => undefined);
    await rm(temp, { force: true }).catch(() => undefined);
    throw new MmftError('E_IO', `could not write ${path}: ${(cause as Error).message}`, {
      cause,
      hint: 'check that the folder exists, is writable and has free space',
    });
  }
  await syncDirectory(dirname(path));
}
