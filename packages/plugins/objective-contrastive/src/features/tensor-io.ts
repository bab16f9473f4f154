// The feature cache's folder, created so that a failure names its real cause and path (a
// recursive mkdir reports ENOENT on a read-only disk); its tensor files go through core's
// readTensorFile / writeTensorFile.
import * as fs from 'node:fs/promises';
import { ioError } from '@mmft/core/io';

/** Create the cache folder `dir` inside the (existing) output folder. */
export async function createCacheDir(dir: string): Promise<void> {
  await fs
    .mkdir(dir)
    .catch((error: NodeJS.ErrnoException) => (error.code === 'EEXIST' ? undefined : Promise.reject(ioError('create', dir, error))));
}
