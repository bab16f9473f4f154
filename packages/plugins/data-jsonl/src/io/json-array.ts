// Reads a file holding one JSON array of records (LLaVA's llava_v1_5_mix665k.json, LLaMA-Factory's
// and ms-swift's .json datasets) element by element: a byte scanner finds where each top-level
// element starts and ends (line and byte offset), so the validator can name "file:line (element i)"
// and the dataset can index and shuffle elements the way it indexes JSONL lines, holding one
// element at a time instead of the whole document. The layout is haotian-liu/LLaVA
// docs/Finetune_Custom_Data.md; structural faults (missing "]", empty slots) become elements
// carrying a `problem`, so nothing is skipped silently.
import * as fs from 'node:fs';
import { MmftError } from '@mmft/core';
import { view } from './bytes';
import type { LineIndex } from './line-index';

/** One top-level element of the array: 0-based index, the 1-based line it starts on, its bytes. */
export interface RawElement {
  readonly index: number;
  readonly line: number;
  readonly offset: number;
  readonly bytes: Uint8Array;
  /** What is structurally wrong around this element (an empty slot, the array left open, text after "]"). */
  readonly problem?: string;
}

const SPACE = new Set([0x20, 0x09, 0x0a, 0x0d]);
const QUOTE = 0x22;
const BACKSLASH = 0x5c;
const COMMA = 0x2c;
const NEWLINE = 0x0a;
const OPEN = new Set([0x5b, 0x7b]);
const CLOSE = new Set([0x5d, 0x7d]);

/**
 * True when the file's first non-space byte (after a UTF-8 byte-order mark) is "[": a JSON array
 * of records rather than JSONL.
 *
 * @example
 * await isJsonArrayFile('llava_instruct.json') // true
 */
export async function isJsonArrayFile(file: string): Promise<boolean> {
  const handle = await fs.promises.open(file, 'r');
  try {
    const head = new Uint8Array(4096);
    const { bytesRead } = await handle.read(head, 0, head.length, 0);
    let i = bytesRead >= 3 && head[0] === 0xef && head[1] === 0xbb && head[2] === 0xbf ? 3 : 0;
    while (i < bytesRead && SPACE.has(head[i]!)) i += 1;
    return i < bytesRead && head[i] === 0x5b;
  } finally {
    await handle.close();
  }
}

/**
 * Yield the elements of the JSON array in `file`, in order. Memory: one read chunk plus one element.
 *
 * @example
 * for await (const el of readJsonArray('data.json')) console.log(el.index, el.line);
 */
export async function* readJsonArray(file: string): AsyncGenerator<RawElement> {
  const stream = fs.createReadStream(file, { highWaterMark: 1 << 20 });
  let line = 1;
  let position = 0;
  let opened = false;
  let closed = false;
  let inString = false;
  let escaped = false;
  let depth = 0; // nesting inside the current element
  let index = 0;
  let start = -1; // offset of the current element's first byte, -1 before it
  let startLine = 0;
  let afterComma = false;
  let parts: Uint8Array[] = [];
  let trailer: { line: number; offset: number } | undefined;
  const finish = (end: number, chunk: Uint8Array, chunkStart: number): RawElement | undefined => {
    if (start === -1) return undefined;
    const from = Math.max(0, start - chunkStart);
    parts.push(chunk.subarray(from, end - chunkStart));
    const bytes = trimEnd(concat(parts));
    const element = { index, line: startLine, offset: start, bytes };
    parts = [];
    start = -1;
    index += 1;
    return element;
  };
  try {
    for await (const buffer of stream as AsyncIterable<Buffer>) {
      const chunk = view(buffer);
      const chunkStart = position;
      for (let i = 0; i < chunk.length; i += 1) {
        const byte = chunk[i]!;
        const at = chunkStart + i;
        if (inString) {
          if (escaped) escaped = false;
          else if (byte === BACKSLASH) escaped = true;
          else if (byte === QUOTE) inString = false;
        } else if (closed) {
          if (!SPACE.has(byte) && trailer === undefined) trailer = { line, offset: at };
        } else if (!opened) {
          // A BOM (EF BB BF) and spaces may precede the "[" that isJsonArrayFile found.
          if (byte === 0x5b) opened = true;
        } else if (depth === 0 && (byte === COMMA || byte === 0x5d)) {
          const element = finish(at, chunk, chunkStart);
          if (element) yield element;
          else if (byte === COMMA || afterComma) {
            yield { index, line, offset: at, bytes: new Uint8Array(0), problem: emptySlot(byte === COMMA) };
            index += 1;
          }
          afterComma = byte === COMMA;
          if (byte === 0x5d) closed = true;
        } else {
          if (start === -1 && !SPACE.has(byte)) {
            start = at;
            startLine = line;
          }
          if (byte === QUOTE) inString = true;
          else if (OPEN.has(byte)) depth += 1;
          else if (CLOSE.has(byte)) depth -= 1;
        }
        if (byte === NEWLINE) line += 1;
      }
      if (start !== -1) parts.push(Uint8Array.from(chunk.subarray(Math.max(0, start - chunkStart))));
      position += chunk.length;
    }
  } catch (cause) {
    throw new MmftError('E_IO', `cannot read ${file}: ${(cause as Error).message}`, { cause });
  } finally {
    stream.destroy();
  }
  if (!closed) {
    const problem = 'the array is not closed with "]" (was the file truncated?)';
    const bytes = start === -1 ? new Uint8Array(0) : trimEnd(concat(parts));
    yield { index, line: start === -1 ? line : startLine, offset: start === -1 ? position : start, bytes, problem };
  } else if (trailer) {
    yield { index, ...trailer, bytes: new Uint8Array(0), problem: 'text after the closing "]" of the array; a file holds one array' };
  }
}

function emptySlot(comma: boolean): string {
  return comma ? 'empty element (two commas in a row, or a comma right after "[")' : 'trailing comma before "]" (JSON allows none)';
}

/**
 * Index the elements of a JSON array file like indexLines indexes JSONL; a structural fault is an
 * E_DATA error naming its line (run `mmft data validate` to see every problem).
 *
 * @example
 * const index = await indexJsonArray('llava_instruct.json'); // index.count elements
 */
export async function indexJsonArray(file: string): Promise<LineIndex> {
  const offsets: number[] = [];
  const lengths: number[] = [];
  const lines: number[] = [];
  for await (const element of readJsonArray(file)) {
    if (element.problem) {
      throw new MmftError('E_DATA', `${file}:${element.line} (element ${element.index}): ${element.problem}`, {
        hint: `run \`mmft data validate ${file}\` to list every problem`,
      });
    }
    offsets.push(element.offset);
    lengths.push(element.bytes.length);
    lines.push(element.line);
  }
  return { count: offsets.length, offsets: Float64Array.from(offsets), lengths: Uint32Array.from(lengths), lines: Uint32Array.from(lines) };
}

function trimEnd(bytes: Uint8Array): Uint8Array {
  let end = bytes.length;
  while (end > 0 && SPACE.has(bytes[end - 1]!)) end -= 1;
  return bytes.subarray(0, end);
}

function concat(parts: readonly Uint8Array[]): Uint8Array {
  // A copy: the stream's chunks may come from a shared pool.
  return parts.length === 1 ? Uint8Array.from(parts[0]!) : view(Buffer.concat(parts));
}
