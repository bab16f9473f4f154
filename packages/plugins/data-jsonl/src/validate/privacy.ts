// Personal data in records and images for `mmft data validate`: every string of a record (image
// fields and data URLs aside) goes through core's detectors (@mmft/core trust/pii.ts), images
// through the EXIF reader (exif.ts). Findings are warnings that keep the line; `--fix OUT
// --redact-pii` writes redacted texts and metadata-free image copies, never touching the inputs.
import { findPersonalData, maskPersonalData, PII_KINDS, redactPersonalData, type PiiKind, type PiiSpan } from '@mmft/core';
import type { RecordIssue } from '../records/issue';
import type { ExifPrivacy } from './exif';

/** The personal data found in one string field of a record (`field` is its dotted path). */
export interface TextFinding {
  readonly field: string;
  readonly spans: readonly PiiSpan[];
}

/** Keys whose strings are image references, not text (LLaVA, LLaMA-Factory, ms-swift, OpenAI parts). */
const IMAGE_KEYS = new Set(['image', 'images', 'image_path', 'image_url']);

const NAMES: Record<PiiKind, string> = {
  email: 'an e-mail address',
  phone: 'a phone number',
  bank_card: 'a bank card number (Luhn check holds)',
  cn_resident_id: 'a Chinese resident ID number (check digit and birth date hold)',
  us_ssn: 'a US social security number',
  iban: 'an IBAN (mod-97 check holds)',
  url_token: 'a URL carrying a token or password',
};

function walk(value: unknown, at: string, underImage: boolean, visit: (field: string, text: string) => string | undefined): unknown {
  if (typeof value === 'string') {
    if (underImage || value.startsWith('data:')) return value;
    return visit(at, value) ?? value;
  }
  const child = (key: string | number) => (at === '' ? String(key) : `${at}.${key}`);
  if (Array.isArray(value)) return value.map((v, i) => walk(v, child(i), underImage, visit));
  if (value !== null && typeof value === 'object') {
    const out: Record<string, unknown> = {};
    for (const [k, v] of Object.entries(value)) out[k] = walk(v, child(k), underImage || IMAGE_KEYS.has(k), visit);
    return out;
  }
  return value;
}

/**
 * Personal data in every text field of `record`, in field order.
 *
 * @example
 * findRecordPersonalData({ image: 'a.png', caption: 'mail ann@example.org' });
 * // [{ field: 'caption', spans: [{ kind: 'email', start: 5, end: 20, text: 'ann@example.org' }] }]
 */
export function findRecordPersonalData(record: Record<string, unknown>): TextFinding[] {
  const found: TextFinding[] = [];
  walk(record, '', false, (field, text) => {
    const spans = findPersonalData(text);
    if (spans.length > 0) found.push({ field, spans });
    return undefined;
  });
  return found;
}

/** `record` with the spans of `findings` replaced by `[EMAIL]`, `[PHONE]`, …; other values unchanged. */
export function redactRecord(record: Record<string, unknown>, findings: readonly TextFinding[]): Record<string, unknown> {
  const byField = new Map(findings.map((f) => [f.field, f.spans]));
  return walk(record, '', false, (field, text) => {
    const spans = byField.get(field);
    return spans ? redactPersonalData(text, spans).text : undefined;
  }) as Record<string, unknown>;
}

/** The warning for one field: what was found, masked (never the whole value), and how to remove it. */
export function personalDataIssue(finding: TextFinding): RecordIssue {
  const what = finding.spans.map((s) => `${NAMES[s.kind]} (${maskPersonalData(s)})`).join(', ');
  return {
    code: 'personal-data',
    field: finding.field,
    message: `field "${finding.field}" holds ${what}; remove personal data before training or release (--fix OUT --redact-pii writes a redacted copy)`,
  };
}

/** What an image's metadata reveals, as words; empty when nothing identifying is there. */
export function describeImageMetadata(found: ExifPrivacy): string[] {
  return [...(found.gps ? ['a GPS position'] : []), ...found.identifying.map((t) => t.tag)];
}

/** The warning for an image with identifying metadata (values are not printed). */
export function imageMetadataIssue(what: string, found: ExifPrivacy, field = 'image'): RecordIssue {
  return {
    code: 'image-metadata',
    field,
    message: `${what} carries ${describeImageMetadata(found).join(', ')} in its metadata; strip it before release (--fix OUT --redact-pii writes copies without metadata)`,
  };
}

/** Counts for the report: personal data per kind, lines holding any, images with identifying metadata. */
export interface PrivacySummary {
  readonly spans: Partial<Record<PiiKind, number>>;
  readonly lines: number;
  readonly images: number;
  /** With --redact-pii: lines whose texts were redacted and image copies written without metadata. */
  readonly redacted?: { readonly lines: number; readonly images: number; readonly changes: string };
}

/** Accumulates PrivacySummary over a run. */
export class PrivacyCounter {
  readonly spans: Partial<Record<PiiKind, number>> = {};
  lines = 0;
  images = 0;

  addLine(findings: readonly TextFinding[]): void {
    if (findings.length === 0) return;
    this.lines += 1;
    for (const f of findings) for (const s of f.spans) this.spans[s.kind] = (this.spans[s.kind] ?? 0) + 1;
  }

  summary(): PrivacySummary {
    const spans: Partial<Record<PiiKind, number>> = {};
    for (const kind of PII_KINDS) if (this.spans[kind]) spans[kind] = this.spans[kind];
    return { spans, lines: this.lines, images: this.images };
  }
}
