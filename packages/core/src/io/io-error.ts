// File-system errors as users read them: which file, what the call was, and the reason in words
// with its errno code and a hint (a recursive mkdir's ENOENT on a read-only disk says nothing).
import { MmftError } from '../errors';

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
