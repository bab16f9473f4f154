// Resolves a record's "image" against the data file's folder and refuses what must not be read:
// URLs (mmft never downloads at run time) and paths escaping the data root (../../etc/passwd,
// absolute paths) unless the user allowed it. The check is lexical; see docs/data.md.
import * as path from 'node:path';
import type { RecordIssue } from './issue';

export interface ImagePathPolicy {
  /** Folder relative paths resolve from: the data file's folder. */
  readonly baseDir: string;
  /** Folder images must stay inside; defaults to `baseDir`. */
  readonly root?: string;
  readonly allowOutsideRoot?: boolean;
}

const URL_LIKE = /^[a-z][a-z0-9+.-]*:\/\//i;

/**
 * The absolute image path, or the issue that refuses it.
 *
 * @example
 * resolveImagePath('imgs/1.png', { baseDir: '/data' }) // { ok: true, path: '/data/imgs/1.png' }
 */
export function resolveImagePath(
  image: string,
  policy: ImagePathPolicy,
): { ok: true; path: string } | { ok: false; issue: RecordIssue } {
  if (URL_LIKE.test(image) || image.startsWith('data:')) {
    return {
      ok: false,
      issue: {
        code: 'image-url',
        field: 'image',
        message: `"${image}" is a URL; mmft does not fetch images: download it and put its local path (relative to the data file) in "image"`,
      },
    };
  }
  const resolved = path.resolve(policy.baseDir, image);
  if (policy.allowOutsideRoot) return { ok: true, path: resolved };
  const root = path.resolve(policy.root ?? policy.baseDir);
  const relative = path.relative(root, resolved);
  if (path.isAbsolute(image) || relative === '..' || relative.startsWith(`..${path.sep}`) || path.isAbsolute(relative)) {
    return {
      ok: false,
      issue: {
        code: 'image-outside-root',
        field: 'image',
        message: `"${image}" resolves to ${resolved}, outside the data root ${root}; use a path relative to the data file, or pass --allow-outside-root if you trust this file`,
      },
    };
  }
  return { ok: true, path: resolved };
}
