// Zod building blocks for record fields whose failures read as validator messages: "missing",
// "must be a string, got a number", "is empty". Each failure is later mapped to a message code
// (missing-field, wrong-type, empty-text) by zodIssues().
import { z } from 'zod';
import { MESSAGES, type MessageCode } from '../validate/messages';
import type { RecordIssue } from './issue';
import { typeName } from './issue';

const EMPTY = 'empty-text';

/** A non-empty string field; `what` says what it holds ("the caption"). */
export function text(what: string) {
  return z
    .string({ error: (iss) => (iss.input === undefined ? `missing (${what})` : `must be a string (${what}), got ${typeName(iss.input)}`) })
    .refine((s) => s.trim().length > 0, { message: `is empty (${what})`, params: { code: EMPTY } });
}

/** A non-empty array of non-empty strings. */
export function textList(what: string) {
  return z
    .array(text(what), {
      error: (iss) => (iss.input === undefined ? `missing (${what})` : `must be an array of strings (${what}), got ${typeName(iss.input)}`),
    })
    .refine((list) => list.length > 0, { message: `is an empty array (${what})`, params: { code: EMPTY } });
}

/** A string or a non-empty array of strings, normalised to an array. */
export function textOrList(what: string) {
  return z.union([text(what), textList(what)], {
    error: (iss) =>
      iss.input === undefined ? `missing (${what})` : `must be a string or an array of strings (${what}), got ${typeName(iss.input)}`,
  });
}

/** Fields every task format accepts besides its own and the image. */
export const idFields = {
  id: z.union([z.string(), z.number()], { error: (iss) => `must be a string or a number, got ${typeName(iss.input)}` }).optional(),
  lang: z.string({ error: (iss) => `must be a language tag string such as "en", got ${typeName(iss.input)}` }).optional(),
};

/** The image field of the image tasks. */
export const imageField = text('the image path, relative to the data file');

/** Fields every image task format accepts besides its own. */
export const commonFields = { image: imageField, ...idFields };

/** Map zod's issues to validator issues with dotted field paths. */
export function zodIssues(error: z.ZodError, record: Record<string, unknown>): RecordIssue[] {
  return error.issues.map((issue) => {
    const field = issue.path.map(String).join('.');
    const custom =
      issue.code === 'custom' || issue.code === 'too_small' ? (issue as { params?: { code?: string } }).params?.code : undefined;
    const present = valueAt(record, issue.path) !== undefined;
    const code: MessageCode =
      custom !== undefined && custom in MESSAGES ? (custom as MessageCode) : present ? 'wrong-type' : 'missing-field';
    return { code, field, message: `field "${field}" ${issue.message}` } as RecordIssue;
  });
}

function valueAt(record: unknown, pathParts: readonly PropertyKey[]): unknown {
  let current = record;
  for (const key of pathParts) {
    if (current === null || typeof current !== 'object') return undefined;
    current = (current as Record<PropertyKey, unknown>)[key];
  }
  return current;
}
