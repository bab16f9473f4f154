// Replaces a checkpoint folder as a whole: everything is written and fsynced into a hidden temp
// folder beside the target, then renamed into place; an existing folder is first renamed aside and
// deleted only after the new one is in place, so a crash leaves the old or the new checkpoint,
// never a mix (at worst the old one under `.<name>.old-*`). Same idea as core's writeFileAtomic.
import { randomBytes } from 'node:crypto';
import { mkdir, open, rename, rm, stat } from 'node:fs/promises';
import { basename, dirname, join, resolve } from 'node:path';
import { MmftError } from '@mmft/core';

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
 * Writes `bytes` to `path` and fsyncs it (the folder it is in is still private).
 *
 * @example
 * await writeDurable(join(temp, 'config.json'), Buffer.from(text));
 */
export async function writeDurable(path: string, bytes: Uint8Array): Promise<void> {
  const handle = await open(path, 'wx');
  try {
    await handle.writeFile(bytes);
    await handle.sync();
  } finally {
    await handle.close();
  }
}

/** JSON as transformers writes config files: keys sorted, 2-space indent, trailing newline. */
export function hfJson(value: unknown): Uint8Array {
  const sortKeys = (v: unknown): unknown => {
    if (Array.isArray(v)) return v.map(sortKeys);
    if (typeof v !== 'object' || v === null) return v;
    return Object.fromEntries(Object.keys(v).sort().map((k) => [k, sortKeys((v as Record<string, unknown>)[k])]));
  };
  return new TextEncoder().encode(`${JSON.stringify(sortKeys(value), null, 2)}\n`);
}

/**
 * Runs `fill(tempDir)` and then swaps the temp folder in as `dir`.
 *
 * @example
 * await replaceFolder('out/model', async (tmp) => writeDurable(join(tmp, 'config.json'), hfJson(config)));
 */
export async function replaceFolder(dir: string, fill: (tempDir: string) => Promise<void>): Promise<void> {
  const target = resolve(dir);
  const parent = dirname(target);
  const tag = `${process.pid}-${randomBytes(4).toString('hex')}`;
  const temp = join(parent, `.${basename(target)}.tmp-${tag}`);
  const old = join(parent, `.${basename(target)}.old-${tag}`);
  const existing = await stat(target).catch(() => undefined);
  if (existing && !existing.isDirectory()) throw new MmftError('E_IO', `cannot save a checkpoint to ${target}: it is a file, not a folder`);
  try {
    await mkdir(parent, { recursive: true });
    await mkdir(temp);
    await fill(temp);
    await fsyncPath(temp);
  } catch (cause) {
    await rm(temp, { recursive: true, force: true }).catch(() => undefined);
    throw cause instanceof MmftError ? cause : new MmftError('E_IO', `could not write checkpoint ${target}: ${(cause as Error).message}`, { cause, hint: 'check free space and permissions' });
  }
  try {
    if (existing) await rename(target, old);
    try {
      await rename(temp, target);
    } catch (cause) {
      if (existing) await rename(old, target); // put the previous checkpoint back
      throw cause;
    }
  } catch (cause) {
    await rm(temp, { recursive: true, force: true }).catch(() => undefined);
    throw new MmftError('E_IO', `could not move the new checkpoint into ${target}: ${(cause as Error).message}`, { cause });
  }
  await fsyncPath(parent);
  if (existing) await rm(old, { recursive: true, force: true });
}
