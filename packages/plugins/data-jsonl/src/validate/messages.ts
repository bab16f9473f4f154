// Every message the validator can print: its code, severity, meaning and fix. docs/data.md lists
// the same table; a test keeps the two in sync. Errors make `mmft data validate` exit non-zero
// and are dropped by --fix; warnings are reported, and duplicates/conflicts are also dropped.

export type Severity = 'error' | 'warning';

/** The validator's message codes. */
export const MESSAGES = {
  'invalid-json': { severity: 'error', summary: 'the line is not valid JSON (a truncated last line is named as such)' },
  'not-object': { severity: 'error', summary: 'the line is JSON but not an object' },
  'non-utf8': { severity: 'error', summary: 'the line holds bytes that are not UTF-8 (the byte column is given)' },
  'missing-field': { severity: 'error', summary: 'a required field of the task format is absent' },
  'wrong-type': { severity: 'error', summary: 'a field has the wrong JSON type, two fields conflict, or a text record has an image' },
  'empty-text': { severity: 'error', summary: 'a text field (caption, question, answer, turn, text) is empty or only spaces' },
  'bad-conversation': {
    severity: 'error',
    summary: 'instruction turns do not start with the user and alternate with the assistant, or misuse <image>',
  },
  'image-placeholders': {
    severity: 'error',
    summary:
      '"<image>" placeholders and images disagree (more placeholders than images, one in an answer or in an interleaved text, several images without one placeholder each)',
  },
  'no-records': { severity: 'error', summary: 'the file holds no records at all' },
  'unknown-task': { severity: 'error', summary: 'no record says which task format the file is in; pass --task' },
  'image-url': { severity: 'error', summary: 'the image is a URL; mmft does not download images' },
  'image-outside-root': {
    severity: 'error',
    summary: 'the image path is absolute or escapes the data folder (needs --allow-outside-root)',
  },
  'image-missing': { severity: 'error', summary: 'the image file does not exist' },
  'image-unreadable': { severity: 'error', summary: 'the image exists but cannot be read (permissions, a folder)' },
  'image-corrupt': { severity: 'error', summary: 'the image bytes do not decode (truncated, wrong format, corrupt)' },
  leakage: { severity: 'error', summary: 'the same image content (or, without an image, the same text) is in two split files' },
  duplicate: { severity: 'warning', summary: 'same image content (if any) and same text as an earlier line' },
  'conflicting-answer': { severity: 'warning', summary: 'same image and question as an earlier line, different answer' },
  'answer-imbalance': { severity: 'warning', summary: 'one VQA answer is more than the allowed share of all answers' },
  'answers-count': { severity: 'warning', summary: 'a VQA record has a number of human answers other than 10' },
  'blank-line': { severity: 'warning', summary: 'an empty line inside the file (skipped by readers)' },
  'personal-data': {
    severity: 'warning',
    summary: 'a text holds an e-mail, phone number, ID/bank-card/IBAN number (checksum holds) or a URL with a token',
  },
  'image-metadata': { severity: 'warning', summary: 'an image carries a GPS position or a camera/lens serial number or owner name' },
  'data-changed': { severity: 'error', summary: 'the data file or its images no longer match its manifest (<file>.manifest.json)' },
  'data-changed-accepted': {
    severity: 'warning',
    summary: 'the data file no longer matches its manifest; accepted by --accept-data-change',
  },
} as const satisfies Record<string, { severity: Severity; summary: string }>;

export type MessageCode = keyof typeof MESSAGES;

/** Codes that --fix keeps the line for: the finding is about the whole file or informative. */
const KEPT_BY_FIX: ReadonlySet<MessageCode> = new Set([
  'answer-imbalance',
  'answers-count',
  'no-records',
  'personal-data',
  'image-metadata',
  'data-changed-accepted',
]);

/** True when --fix drops a line reported with `code` (every error, duplicates, conflicts, blanks). */
export function dropsLine(code: MessageCode): boolean {
  return !KEPT_BY_FIX.has(code);
}

/** The severity of a code. */
export function severityOf(code: MessageCode): Severity {
  return MESSAGES[code].severity;
}

/** One reported problem, located. */
export interface Issue {
  readonly code: MessageCode;
  readonly severity: Severity;
  readonly file: string;
  /** 1-based line; absent for whole-file findings (answer imbalance). */
  readonly line?: number;
  /** 0-based element of a JSON array file (its first line is `line`); absent for JSONL. */
  readonly element?: number;
  readonly field?: string;
  readonly message: string;
}

/**
 * Print form of an issue: `file:line: error [code] message`.
 *
 * @example
 * formatIssue({ code: 'image-missing', severity: 'error', file: 'a.jsonl', line: 3, field: 'image', message: '...' })
 */
export function formatIssue(issue: Issue): string {
  const element = issue.element === undefined ? '' : ` (element ${issue.element})`;
  const where = issue.line === undefined ? issue.file : `${issue.file}:${issue.line}${element}`;
  return `${where}: ${issue.severity} [${issue.code}] ${issue.message}`;
}
