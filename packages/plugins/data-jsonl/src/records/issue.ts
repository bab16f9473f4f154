// What a record check reports: a validator message code, the field it concerns and the text.
// Codes are listed, with meaning and fix, in validate/messages.ts and docs/data.md.
import type { MessageCode } from '../validate/messages';

/** One problem with one record (the file and line are added by the caller). */
export interface RecordIssue {
  readonly code: MessageCode;
  /** Dotted JSON path ("conversations.1.value"); absent for whole-line problems. */
  readonly field?: string;
  readonly message: string;
}

/** A short, human name of a JSON value's type for "got …" messages. */
export function typeName(value: unknown): string {
  if (value === null) return 'null';
  if (Array.isArray(value)) return 'an array';
  if (typeof value === 'object') return 'an object';
  if (typeof value === 'string') return value.trim() === '' ? 'an empty string' : 'a string';
  return `a ${typeof value}`;
}
