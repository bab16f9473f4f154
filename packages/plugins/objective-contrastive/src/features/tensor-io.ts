// The feature cache's F32/I32 tensor files through @mmft/core's safetensors reader and writer
// (packages/core/src/io, atomic: temp + rename), and its folder, created so that a failure names
// its real cause and path (a recursive mkdir reports ENOENT on a read-only disk).
import * as fs from 'node:fs/promises';
import { MmftError } from '@mmft/core';
import { readSafetensors, writeSafetensors, type WritableTensor } from '@mmft/core/io';

export interface StoredTensor {
  readonly shape: readonly number[];
  readonly data: Float32Array | Int32Array;
}

const CAUSES: Readonly<Record<string, readonly [reason: string, hint: string]>> = {
  ENOSPC: ['no space left on the device', 'free disk space there, or choose another output folder with --output'],
  EDQUOT: ['the disk quota is exhausted', 'free space within your quota, or choose another output folder with --output'],
  EROFS: ['it is on a read-only file system', 'choose a writable output folder with --output (or output_dir in the recipe)'],
  EACCES: ['permission denied', 'choose a folder you can write to with --output (or output_dir in the recipe), or fix its permissions'],
  EPERM: ['operation not permitted', 'choose a folder you can write to with --output (or output_dir in the recipe)'],
};

/** An `E_IO` error naming `file` and the reason in words, as the trainer's output folder errors do. */
function ioError(action: string, file: string, cause: unknown): MmftError {
  if (cause instanceof MmftError) return cause;
  const code = (cause as NodeJS.ErrnoException | undefined)?.code;
  const known = code ? CAUSES[code] : undefined;
  const reason = known ? `${known[0]} (${code})` : ((cause as Error | undefined)?.message ?? String(cause));
  return new MmftError('E_IO', `cannot ${action} ${file}: ${reason}`, { cause, hint: known?.[1] });
}

/** Create the cache folder `dir` inside the (existing) output folder. */
export async function createCacheDir(dir: string): Promise<void> {
  await fs
    .mkdir(dir)
    .catch((error: NodeJS.ErrnoException) => (error.code === 'EEXIST' ? undefined : Promise.reject(ioError('create', dir, error))));
}

/** Write tensors (+ string metadata) to `file` atomically. */
export async function writeTensorFile(
  file: string,
  tensors: ReadonlyMap<string, StoredTensor>,
  metadata: Record<string, string> = {},
): Promise<void> {
  const writable = new Map<string, WritableTensor>();
  for (const [name, t] of tensors)
    writable.set(name, { dtype: t.data instanceof Float32Array ? 'F32' : 'I32', shape: t.shape, data: t.data });
  await writeSafetensors(file, writable, metadata).catch((error: unknown) => Promise.reject(ioError('write', file, error)));
}

/** Read a file of F32 and I32 tensors; other dtypes are an E_SAFETENSORS error naming the tensor. */
export async function readTensorFile(file: string): Promise<{ tensors: Map<string, StoredTensor>; metadata: Record<string, string> }> {
  const { tensors, metadata } = await readSafetensors(file);
  const out = new Map<string, StoredTensor>();
  for (const [name, t] of tensors) {
    if (!(t.data instanceof Float32Array) && !(t.data instanceof Int32Array)) {
      throw new MmftError(
        'E_SAFETENSORS',
        `${file}: tensor "${name}" has dtype ${t.dtype}; mmft writes these files with F32 and I32 only`,
        { hint: 'delete the file to recompute it' },
      );
    }
    out.set(name, { shape: t.shape, data: t.data });
  }
  return { tensors: out, metadata };
}
