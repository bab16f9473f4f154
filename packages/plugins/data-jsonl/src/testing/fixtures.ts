// Test helpers: the committed fixtures folder and throwaway data folders holding copies of its
// images, so each test writes the exact JSONL bytes it needs (BOM, CRLF, broken lines).
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import type { Dataset, Example } from '@mmft/core';

export const FIXTURES = path.resolve(__dirname, '..', '..', 'fixtures');

/** A temp folder with fixtures/images copied to `images/`. */
export function dataDir(): string {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'mmft-data-'));
  fs.cpSync(path.join(FIXTURES, 'images'), path.join(dir, 'images'), { recursive: true });
  return dir;
}

/** Write `content` (string or bytes) to dir/name and return the path. */
export function writeData(dir: string, name: string, content: string | Uint8Array): string {
  const file = path.join(dir, name);
  fs.writeFileSync(file, content);
  return file;
}

/** JSONL text of `records`, one per line. */
export function jsonl(...records: unknown[]): string {
  return records.map((r) => (typeof r === 'string' ? r : JSON.stringify(r))).join('\n') + '\n';
}

/** Every example of a dataset (optionally with iterate options). */
export async function collect(dataset: Dataset, options?: Parameters<Dataset['iterate']>[0]): Promise<Example[]> {
  const out: Example[] = [];
  for await (const example of dataset.iterate(options)) out.push(example);
  return out;
}
