// Streams a file as raw lines with their byte offsets, holding one chunk plus one line in memory.
// Raw bytes (not strings) so the validator can find non-UTF-8 bytes that Node's readline would
// silently replace; offsets feed the shuffle index (line-index.ts).
import * as fs from 'node:fs';
import { MmftError } from '@mmft/core';
import { view } from './bytes';

/** One physical line of a file: 1-based number, byte offset of its start, bytes without "\n". */
export interface RawLine {
  readonly line: number;
  readonly offset: number;
  readonly bytes: Uint8Array;
  /** False only for a last line that the file ends without a newline (possibly truncated). */
  readonly terminated: boolean;
}

/** Longest line accepted; a longer one is almost always a file that is not JSONL. */
export const MAX_LINE_BYTES = 64 * 1024 * 1024;

/**
 * Yield every line of `file` in order. Memory: one 1 MiB read chunk plus the current line.
 *
 * @example
 * for await (const { line, bytes } of readLines('train.jsonl')) console.log(line, bytes.length);
 */
export async function* readLines(file: string, startOffset = 0, startLine = 1): AsyncGenerator<RawLine> {
  const stream = fs.createReadStream(file, { start: startOffset, highWaterMark: 1 << 20 });
  let pending: Uint8Array[] = [];
  let pendingBytes = 0;
  let lineStart = startOffset;
  let line = startLine;
  let position = startOffset;
  try {
    for await (const chunk of stream as AsyncIterable<Buffer>) {
      let from = 0;
      for (let nl = chunk.indexOf(10, from); nl !== -1; nl = chunk.indexOf(10, from)) {
        const piece = chunk.subarray(from, nl);
        const bytes = pending.length === 0 ? Uint8Array.from(view(piece)) : concat([...pending, view(piece)]);
        pending = [];
        pendingBytes = 0;
        yield { line, offset: lineStart, bytes, terminated: true };
        line += 1;
        lineStart = position + nl + 1;
        from = nl + 1;
      }
      if (from < chunk.length) {
        pending.push(Uint8Array.from(view(chunk.subarray(from))));
        pendingBytes += chunk.length - from;
        if (pendingBytes > MAX_LINE_BYTES) {
          throw new MmftError('E_DATA', `${file}:${line}: line is longer than ${MAX_LINE_BYTES} bytes`, {
            hint: 'JSONL holds one JSON object per line; is this a pretty-printed JSON file? Re-write it with one record per line',
          });
        }
      }
      position += chunk.length;
    }
  } catch (cause) {
    if (cause instanceof MmftError) throw cause;
    throw new MmftError('E_IO', `cannot read ${file}: ${(cause as Error).message}`, { cause });
  } finally {
    stream.destroy();
  }
  if (pendingBytes > 0) yield { line, offset: lineStart, bytes: concat(pending), terminated: false };
}

function concat(parts: readonly Uint8Array[]): Uint8Array {
  return view(Buffer.concat(parts));
}
