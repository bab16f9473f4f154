// Reads the input files of `mmft eval`: JSON Lines (one object per line, blank lines allowed)
// or one JSON document (COCO / VQA layouts), with file:line for every malformed line.
import * as fs from 'node:fs';
import * as path from 'node:path';
import { MmftError } from '@mmft/core';
import { Problems } from './problems';

/** One parsed JSONL record and where it came from ("P.jsonl:12"). */
export interface LineRecord {
  readonly value: Record<string, unknown>;
  readonly where: string;
}

/** The file's content: a JSON document, or the records of a JSONL file. */
export type FileContent = { kind: 'json'; value: unknown } | { kind: 'jsonl'; records: LineRecord[] };

export function readText(file: string, cwd: string): { text: string; name: string } {
  const full = path.resolve(cwd, file);
  try {
    return { text: fs.readFileSync(full, 'utf8'), name: file };
  } catch (cause) {
    throw new MmftError('E_IO', `cannot read ${file}: ${(cause as Error).message}`, { cause, hint: 'check the path' });
  }
}

/**
 * Parse `file` as one JSON document when it is one (an array, or an object that is not a
 * single JSONL record), else as JSON Lines.
 *
 * @example
 * readRecords('preds.jsonl', process.cwd(), (v) => 'id' in v);
 */
export function readRecords(file: string, cwd: string, isRecord: (value: Record<string, unknown>) => boolean): FileContent {
  const { text, name } = readText(file, cwd);
  const trimmed = text.trim();
  if (trimmed.startsWith('[') || trimmed.startsWith('{')) {
    try {
      const value: unknown = JSON.parse(trimmed);
      const single = typeof value === 'object' && value !== null && !Array.isArray(value) && isRecord(value as Record<string, unknown>);
      if (!single) return { kind: 'json', value };
    } catch {
      // not one JSON document: read it as JSON Lines below
    }
  }
  const malformed = new Problems(`malformed lines in ${name}`, 'each line must be one JSON object');
  const records: LineRecord[] = [];
  text.split(/\r?\n/).forEach((line, i) => {
    if (line.trim() === '') return;
    const where = `${name}:${i + 1}`;
    try {
      const value: unknown = JSON.parse(line);
      if (typeof value !== 'object' || value === null || Array.isArray(value)) malformed.add(`${where} (not an object)`);
      else records.push({ value: value as Record<string, unknown>, where });
    } catch (cause) {
      malformed.add(`${where} (${(cause as Error).message})`);
    }
  });
  malformed.throwIfAny();
  return { kind: 'jsonl', records };
}

/** An id field as a string: JSONL ids are strings, COCO/VQA ids are numbers. */
export function idOf(value: unknown): string | undefined {
  if (typeof value === 'string' && value !== '') return value;
  if (typeof value === 'number' && Number.isFinite(value)) return String(value);
  return undefined;
}
