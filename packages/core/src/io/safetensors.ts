// Reading Hugging Face safetensors files (https://huggingface.co/docs/safetensors): header
// checked in full before any tensor is decoded, each tensor read straight from its offset, so a
// truncated or lying file fails with its name and never yields garbage. Writer: safetensors-write.ts.

import { open } from 'node:fs/promises';
import { MmftError } from '../errors';
import { decodeTensorData } from './codec';
import type { SafetensorsDtype, TensorData } from './dtypes';
import { parseHeader, readHeaderLength, type HeaderEntry } from './safetensors-header';

/** One decoded tensor; `dtype` is the type on disk (F16 data arrives as Float32Array). */
export interface SafetensorsTensor {
  dtype: SafetensorsDtype;
  shape: number[];
  data: TensorData;
}

/** The contents of one safetensors file; tensors in file order. */
export interface SafetensorsFile {
  tensors: Map<string, SafetensorsTensor>;
  metadata: Record<string, string>;
}

const decode = (entry: HeaderEntry, bytes: Uint8Array, source: string): SafetensorsTensor => ({
  dtype: entry.dtype,
  shape: entry.shape,
  data: decodeTensorData(entry.dtype, bytes, `${source}: tensor "${entry.name}"`),
});

/**
 * Parses a whole safetensors file held in memory. `sourceName` appears in error messages.
 *
 * @example
 * const { tensors } = parseSafetensors(await fs.readFile('model.safetensors'), 'model.safetensors');
 */
export function parseSafetensors(buffer: Uint8Array, sourceName = '<buffer>'): SafetensorsFile {
  const n = readHeaderLength(buffer.subarray(0, 8), buffer.length, sourceName);
  const dataStart = 8 + n;
  const { entries, metadata } = parseHeader(buffer.subarray(8, dataStart), buffer.length - dataStart, sourceName);
  const tensors = new Map<string, SafetensorsTensor>();
  for (const entry of entries) {
    // A copy, not a view: results must not pin (or alias) the caller's whole file buffer.
    const bytes = Uint8Array.prototype.slice.call(buffer, dataStart + entry.begin, dataStart + entry.end);
    tensors.set(entry.name, decode(entry, bytes, sourceName));
  }
  return { tensors, metadata };
}

type Handle = Awaited<ReturnType<typeof open>>;

/** Fills `target` from `position`, looping over short reads; a file that ends early is an error. */
async function readFully(handle: Handle, target: Uint8Array, position: number, source: string): Promise<void> {
  let done = 0;
  while (done < target.length) {
    // Reads above 2 GiB are refused by Node, so big tensors come in chunks.
    const length = Math.min(target.length - done, 1 << 30);
    const { bytesRead } = await handle.read(target, done, length, position + done);
    if (bytesRead === 0) {
      throw new MmftError(
        'E_SAFETENSORS',
        `${source}: the file ended at byte ${position + done} while reading (was it truncated while open?)`,
      );
    }
    done += bytesRead;
  }
}

/**
 * Reads a safetensors file tensor by tensor (never the whole file at once).
 *
 * @example
 * const { tensors, metadata } = await readSafetensors('checkpoints/model.safetensors');
 * tensors.get('visual_projection.weight')?.shape; // [512, 768]
 */
export async function readSafetensors(path: string): Promise<SafetensorsFile> {
  let handle: Handle;
  try {
    handle = await open(path, 'r');
  } catch (cause) {
    throw new MmftError('E_IO', `cannot open safetensors file ${path}: ${(cause as Error).message}`, { cause });
  }
  try {
    const size = (await handle.stat()).size;
    const prefix = new Uint8Array(8);
    if (size >= 8) await readFully(handle, prefix, 0, path);
    const n = readHeaderLength(prefix, size, path);
    const json = new Uint8Array(n);
    await readFully(handle, json, 8, path);
    const { entries, metadata } = parseHeader(json, size - 8 - n, path);
    const tensors = new Map<string, SafetensorsTensor>();
    for (const entry of entries) {
      const bytes = new Uint8Array(entry.end - entry.begin);
      await readFully(handle, bytes, 8 + n + entry.begin, path);
      tensors.set(entry.name, decode(entry, bytes, path));
    }
    return { tensors, metadata };
  } finally {
    await handle.close();
  }
}
