// One pass over a JSONL file recording where each non-blank line starts, how long it is and its
// line number, so a shuffled epoch can read records by position instead of holding the file.
// Memory bound: 16 bytes per record (Float64 offset + Uint32 length + Uint32 line number).
import { decodeLine, isBlank } from './decode-line';
import { readLines } from './read-lines';

/** Byte ranges of the records of one file. */
export interface LineIndex {
  readonly count: number;
  readonly offsets: Float64Array;
  readonly lengths: Uint32Array;
  readonly lines: Uint32Array;
}

/**
 * Index the non-blank lines of `file`.
 *
 * @example
 * const index = await indexLines('train.jsonl'); // index.count records
 */
export async function indexLines(file: string): Promise<LineIndex> {
  let capacity = 1024;
  let offsets = new Float64Array(capacity);
  let lengths = new Uint32Array(capacity);
  let lines = new Uint32Array(capacity);
  let count = 0;
  for await (const raw of readLines(file)) {
    const decoded = decodeLine(raw.bytes, raw.line === 1);
    // Non-UTF-8 lines are kept: reading them later reports the error at the right line.
    if (decoded.ok && isBlank(decoded.text)) continue;
    if (count === capacity) {
      capacity *= 2;
      offsets = grow(offsets, new Float64Array(capacity));
      lengths = grow(lengths, new Uint32Array(capacity));
      lines = grow(lines, new Uint32Array(capacity));
    }
    offsets[count] = raw.offset;
    lengths[count] = raw.bytes.length;
    lines[count] = raw.line;
    count += 1;
  }
  return { count, offsets: offsets.subarray(0, count), lengths: lengths.subarray(0, count), lines: lines.subarray(0, count) };
}

function grow<T extends Float64Array | Uint32Array>(from: T, to: T): T {
  to.set(from);
  return to;
}
