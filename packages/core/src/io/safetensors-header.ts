// Reading and writing the safetensors header: an 8-byte little-endian length N, then N bytes of
// JSON `{name: {dtype, shape, data_offsets}, "__metadata__"?: {str: str}}` padded with spaces.
// Validation follows `SafeTensors::read_metadata` / `Metadata::validate` in safetensors/src/tensor.rs.

import { MmftError } from '../errors';
import { DTYPES, elementCount, isSafetensorsDtype, SUPPORTED_DTYPES, type SafetensorsDtype } from './dtypes';

/** One tensor as the header describes it; offsets are relative to the data section. */
export interface HeaderEntry {
  name: string;
  dtype: SafetensorsDtype;
  shape: number[];
  begin: number;
  end: number;
}

/** The upstream reader's limit; a larger claim means a corrupt length or not a safetensors file. */
export const MAX_HEADER_BYTES = 100_000_000;

const fail = (source: string, message: string, hint?: string): never => {
  throw new MmftError('E_SAFETENSORS', `${source}: ${message}`, { hint });
};

/** Reads N from the 8-byte prefix and checks it against the file size; returns N. */
export function readHeaderLength(prefix: Uint8Array, fileLength: number, source: string): number {
  if (fileLength < 8) {
    fail(
      source,
      `the file is ${fileLength} bytes, shorter than the 8-byte header length`,
      'the file is truncated or not a safetensors file',
    );
  }
  const n = new DataView(prefix.buffer, prefix.byteOffset, 8).getBigUint64(0, true);
  if (n > BigInt(MAX_HEADER_BYTES)) {
    fail(source, `the header claims ${n} bytes, more than the ${MAX_HEADER_BYTES} allowed`, 'this is not a safetensors file');
  }
  if (8 + Number(n) > fileLength) {
    fail(source, `the header claims ${n} bytes but the file has only ${fileLength - 8} after the length`, 'the file is truncated');
  }
  return Number(n);
}

const isPlainObject = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);
const isCount = (v: unknown): v is number => typeof v === 'number' && Number.isSafeInteger(v) && v >= 0;

function parseEntry(name: string, raw: unknown, source: string): HeaderEntry {
  const where = `tensor "${name}"`;
  if (!isPlainObject(raw)) return fail(source, `${where}: header entry is not an object`);
  const { dtype, shape, data_offsets: offsets } = raw;
  if (!isSafetensorsDtype(dtype))
    return fail(source, `${where}: unknown dtype ${JSON.stringify(dtype)}; supported: ${SUPPORTED_DTYPES.join(', ')}`);
  if (!Array.isArray(shape) || !shape.every(isCount)) {
    return fail(source, `${where}: shape ${JSON.stringify(shape)} is not a list of non-negative integers`);
  }
  if (!Array.isArray(offsets) || offsets.length !== 2 || !offsets.every(isCount) || offsets[0] > offsets[1]) {
    return fail(source, `${where}: data_offsets ${JSON.stringify(offsets)} is not [begin, end] with 0 ≤ begin ≤ end`);
  }
  const count = elementCount(shape);
  const bytes = count === undefined ? undefined : count * DTYPES[dtype].itemSize;
  if (bytes === undefined || !Number.isSafeInteger(bytes) || bytes !== offsets[1] - offsets[0]) {
    const held = offsets[1] - offsets[0];
    const needed = `${dtype} of shape [${shape.join(', ')}] needs ${bytes ?? 'too many'} bytes`;
    fail(source, `${where}: ${needed} but data_offsets [${offsets.join(', ')}] hold ${held}`);
  }
  return { name, dtype, shape: [...shape], begin: offsets[0], end: offsets[1] };
}

/** Parses and validates the header JSON; entries come back sorted by offset. */
export function parseHeader(
  json: Uint8Array,
  dataLength: number,
  source: string,
): { entries: HeaderEntry[]; metadata: Record<string, string> } {
  let text: string;
  let parsed: unknown;
  try {
    text = new TextDecoder('utf-8', { fatal: true, ignoreBOM: true }).decode(json);
  } catch (cause) {
    throw new MmftError('E_SAFETENSORS', `${source}: the header is not valid UTF-8`, { cause });
  }
  try {
    parsed = JSON.parse(text);
  } catch (cause) {
    throw new MmftError('E_SAFETENSORS', `${source}: the header is not valid JSON (${(cause as Error).message})`, {
      cause,
      hint: 'the file is corrupt or not a safetensors file',
    });
  }
  if (!isPlainObject(parsed)) return fail(source, 'the header is not a JSON object');
  const { __metadata__: rawMetadata, ...rawTensors } = parsed;
  const metadata: Record<string, string> = {};
  if (rawMetadata != null) {
    if (!isPlainObject(rawMetadata)) fail(source, '__metadata__ is not an object of strings');
    for (const [key, value] of Object.entries(rawMetadata as Record<string, unknown>)) {
      if (typeof value !== 'string') fail(source, `__metadata__["${key}"] is ${JSON.stringify(value)}, not a string`);
      metadata[key] = value as string;
    }
  }
  const entries = Object.entries(rawTensors).map(([name, raw]) => parseEntry(name, raw, source));
  entries.sort((a, b) => a.begin - b.begin || a.end - b.end);
  let cursor = 0;
  let previous: HeaderEntry | undefined;
  for (const entry of entries) {
    const where = `tensor "${entry.name}" (bytes ${entry.begin}–${entry.end})`;
    if (entry.end > dataLength) fail(source, `${where} ends past the data section of ${dataLength} bytes`, 'the file is truncated');
    if (entry.begin < cursor) fail(source, `${where} overlaps tensor "${previous!.name}" (bytes ${previous!.begin}–${previous!.end})`);
    if (entry.begin > cursor) fail(source, `bytes ${cursor}–${entry.begin} before ${where} belong to no tensor`);
    cursor = entry.end;
    previous = entry;
  }
  if (cursor !== dataLength) {
    fail(
      source,
      `the tensors cover ${cursor} bytes but the data section has ${dataLength}`,
      'the file has trailing bytes or a missing header entry',
    );
  }
  return { entries, metadata };
}

/** Code-point order, which equals the UTF-8 byte order Rust's `String::cmp` sorts names by. */
function compareUtf8(a: string, b: string): number {
  if (a === b) return 0;
  const x = [...a].map((c) => c.codePointAt(0)!);
  const y = [...b].map((c) => c.codePointAt(0)!);
  for (let i = 0; i < Math.min(x.length, y.length); i++) if (x[i] !== y[i]) return x[i] - y[i];
  return x.length - y.length;
}

/**
 * Orders tensors as the reference writer does (dtype alignment descending, then name), assigns
 * contiguous offsets and returns the 8-byte prefix + JSON header padded with spaces to 8 bytes.
 */
export function buildHeader(
  tensors: ReadonlyArray<{ name: string; dtype: SafetensorsDtype; shape: readonly number[]; byteLength: number }>,
  metadata: Readonly<Record<string, string>> | undefined,
): { header: Uint8Array; order: string[] } {
  const sorted = [...tensors].sort((a, b) => DTYPES[b.dtype].order - DTYPES[a.dtype].order || compareUtf8(a.name, b.name));
  const parts: string[] = [];
  if (metadata) {
    const keys = Object.keys(metadata).sort(compareUtf8);
    parts.push(`"__metadata__":{${keys.map((k) => `${JSON.stringify(k)}:${JSON.stringify(metadata[k])}`).join(',')}}`);
  }
  let offset = 0;
  for (const t of sorted) {
    parts.push(
      `${JSON.stringify(t.name)}:{"dtype":"${t.dtype}","shape":[${t.shape.join(',')}],"data_offsets":[${offset},${offset + t.byteLength}]}`,
    );
    offset += t.byteLength;
  }
  const json = new TextEncoder().encode(`{${parts.join(',')}}`);
  const padded = json.length + ((8 - (json.length % 8)) % 8);
  const header = new Uint8Array(8 + padded).fill(0x20, 8 + json.length);
  new DataView(header.buffer).setBigUint64(0, BigInt(padded), true);
  header.set(json, 8);
  return { header, order: sorted.map((t) => t.name) };
}
