// Content hashes shared by data manifests, provenance and model cards. Files are streamed so a
// multi-gigabyte weights file never sits in memory; an images folder gets one digest over its
// sorted "relative/path  sha256" lines so renaming, adding or editing any image changes it.
import { createHash } from 'node:crypto';
import { createReadStream } from 'node:fs';
import * as fs from 'node:fs/promises';
import * as path from 'node:path';

/** Hex sha256 of a string or bytes. */
export function sha256Hex(data: string | Uint8Array): string {
  return createHash('sha256').update(data).digest('hex');
}

/** Hex sha256 and size of a file, read as a stream. */
export async function hashFile(file: string): Promise<{ sha256: string; bytes: number }> {
  const hash = createHash('sha256');
  let bytes = 0;
  await new Promise<void>((resolve, reject) => {
    const stream = createReadStream(file);
    stream.on('data', (chunk) => {
      const buf = typeof chunk === 'string' ? Buffer.from(chunk) : chunk;
      bytes += buf.length;
      hash.update(buf);
    });
    stream.on('error', reject);
    stream.on('end', () => resolve());
  });
  return { sha256: hash.digest('hex'), bytes };
}

/**
 * One digest over a set of files: sha256 of the lines `<relative path>  <sha256>\n`, sorted by
 * path (the `sha256sum` line format, so `sha256sum` over the same files sorted reproduces it).
 */
export async function digestFiles(root: string, files: readonly string[]): Promise<{ count: number; sha256: string }> {
  const rels = [...new Set(files.map((f) => path.relative(root, path.resolve(root, f)).split(path.sep).join('/')))].sort();
  const lines: string[] = [];
  for (const rel of rels) lines.push(`${rel}  ${(await hashFile(path.join(root, rel))).sha256}\n`);
  return { count: rels.length, sha256: sha256Hex(lines.join('')) };
}

/** Every regular file under a folder (recursively), relative paths with `/`. */
export async function listFilesRecursive(root: string): Promise<string[]> {
  const out: string[] = [];
  const walk = async (dir: string): Promise<void> => {
    for (const entry of await fs.readdir(dir, { withFileTypes: true })) {
      const full = path.join(dir, entry.name);
      if (entry.isDirectory()) await walk(full);
      else if (entry.isFile()) out.push(path.relative(root, full).split(path.sep).join('/'));
    }
  };
  await walk(root);
  return out.sort();
}
