// Folder writing for CLIP checkpoints: core's writeFolder (staged copy, completion marker written
// last, swap with recovery of an interrupted one), plus the JSON layout transformers writes.
import { writeFileDurable, writeFolder } from '@mmft/core';

/**
 * Writes `bytes` to `path` and fsyncs it (the folder it is in is still private).
 *
 * @example
 * await writeDurable(join(temp, 'config.json'), Buffer.from(text));
 */
export const writeDurable = writeFileDurable;

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
 * Runs `fill(tempDir)` and then swaps the temp folder in as `dir`, marked as a model folder.
 * The output-folder check is the caller's (saveClipCheckpoint does it).
 *
 * @example
 * await replaceFolder('out/model', async (tmp) => writeDurable(join(tmp, 'config.json'), hfJson(config)));
 */
export function replaceFolder(dir: string, fill: (tempDir: string) => Promise<void>): Promise<void> {
  return writeFolder(dir, fill, { kind: 'model' });
}
