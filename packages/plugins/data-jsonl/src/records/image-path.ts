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
export function resolveImagePath(image: string, policy: ImagePathPolicy): { ok: true; path: string } | { ok: false; issue: RecordIssue } {
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
        message: `"${image}" resolves to ${resolved}, outside the data root ${root}; use a path inside it, relative to the data file; or widen the root to a folder holding the image (--root DIR, root: in a recipe); or pass --allow-outside-root (allowOutsideRoot: true) if you trust this file`,
      },
    };
  }
  return { ok: true, path: resolved };
}

/**
 * The "image" value that resolves to `resolved` from a data file written into `outDir`: relative
 * paths are rewritten relative to `outDir` (with "/" on every platform), absolute ones are kept.
 *
 * @example
 * relocatedImagePath('images/1.png', '/data/images/1.png', '/') // 'data/images/1.png'
 */
export function relocatedImagePath(original: string, resolved: string, outDir: string): string {
  if (path.isAbsolute(original)) return original;
  return path.relative(outDir, resolved).split(path.sep).join('/');
}

/**
 * `record` with each image path of `files` (a resolved file and the dotted field it was written at,
 * "image", "images.2", "segments.3.image", "messages.0.content.1.image_url.url") replaced by
 * `move(original, resolved)`; the record itself is not changed (copied along each path), and
 * fields that no longer hold a string are left alone. Undefined when nothing changed.
 *
 * @example
 * relocateImageFields({ images: ['a.png', 'b.png'] }, [{ field: 'images.1', path: '/d/b.png' }], (o) => `x/${o}`) // { images: ['a.png', 'x/b.png'] }
 */
export function relocateImageFields(
  record: Record<string, unknown>,
  files: readonly { readonly path: string; readonly field: string }[],
  move: (original: string, resolved: string) => string,
): Record<string, unknown> | undefined {
  let out: Record<string, unknown> | undefined;
  for (const { path: resolved, field } of files) {
    const keys = field.split('.');
    // Copy-on-write down the path, so other references to the input record see no change.
    const root: Record<string, unknown> = out ?? { ...record };
    let node: Record<string, unknown> | unknown[] = root;
    let ok = true;
    for (const key of keys.slice(0, -1)) {
      const child: unknown = (node as Record<string, unknown>)[key];
      if (child === null || typeof child !== 'object') {
        ok = false;
        break;
      }
      const copy: Record<string, unknown> | unknown[] = Array.isArray(child)
        ? [...(child as unknown[])]
        : { ...(child as Record<string, unknown>) };
      (node as Record<string, unknown>)[key] = copy;
      node = copy;
    }
    const last = keys[keys.length - 1]!;
    const value = ok ? (node as Record<string, unknown>)[last] : undefined;
    // A lone string in "images" (LLaMA-Factory wraps it into a list) is written at "images" itself.
    if (typeof value !== 'string') continue;
    (node as Record<string, unknown>)[last] = move(value, resolved);
    out = root;
  }
  return out;
}

/**
 * Why a data tool must not write a copy of `inputFile` into `outDir`, or undefined when it may.
 * Every image accepted from the input lies inside the input's root (its folder, or `root`); the
 * copy's images are checked later against the copy's root (`outDir`, or the same `root`), so the
 * copy validates and trains as written exactly when that root holds the input's root.
 *
 * @example
 * outputFolderProblem('/data/a.jsonl', '/data/splits', { baseDir: '/data' }) // 'image paths would leave /data/splits ...'
 */
export function outputFolderProblem(inputFile: string, outDir: string, policy: Omit<ImagePathPolicy, 'baseDir'>): string | undefined {
  if (policy.allowOutsideRoot) return undefined;
  const inputRoot = path.resolve(policy.root ?? path.dirname(inputFile));
  const outputRoot = path.resolve(policy.root ?? outDir);
  const relative = path.relative(outputRoot, inputRoot);
  if (relative !== '..' && !relative.startsWith(`..${path.sep}`) && !path.isAbsolute(relative)) return undefined;
  return (
    `image paths would leave ${outputRoot}: images of ${inputFile} resolve from ${inputRoot}, and a data file's image paths ` +
    `must stay inside its own folder, so validate and training refuse the "../" paths a copy there would need`
  );
}
