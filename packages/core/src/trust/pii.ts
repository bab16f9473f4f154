// Personal data in free text: e-mail addresses, phone numbers, bank-card-like numbers (Luhn),
// Chinese resident IDs (GB 11643-1999), US SSNs, IBANs (ISO 13616 mod-97) and URLs carrying
// secrets, in English and Chinese. Numbers with a checksum are reported only when it holds, so a
// random 16-digit id is not a "card". Matching runs on the NFKC form (full-width digits and "＠"
// become ASCII) and spans are mapped back to the original text. Used by `mmft data validate`.
// The detectors themselves live in ./pii-detectors.ts; this file scans, redacts and masks.

import { DETECTORS, GATES, SECRET_URL_KEYS, decodeKey, type Gate, type PiiKind } from './pii-detectors';

export { PII_KINDS, SECRET_URL_KEYS, cnResidentIdValid, ibanValid, luhnValid, urlHasToken, usSsnValid } from './pii-detectors';
export type { PiiKind } from './pii-detectors';

/** One finding: `text` is `input.slice(start, end)` (UTF-16 offsets into the original text). */
export interface PiiSpan {
  readonly kind: PiiKind;
  readonly start: number;
  readonly end: number;
  readonly text: string;
}

/**
 * One pass that every text with a finding passes (non-ASCII text may hide full-width digits):
 * most texts of a dataset fail it and cost one scan (validating 75 MB of captions: ~1 s).
 */
const ANY_ASCII = /@|:\/\/|[A-Z]{2}\d{2}|\d(?:[ .()-]{0,2}\d){7}/;
const ANY = new RegExp(`[^\\x00-\\x7f]|${ANY_ASCII.source}`);

/** NFKC of one code point, with fast paths for what Chinese and English text is mostly made of. */
function nfkcOf(code: number, text: string, i: number, width: number): string {
  // ASCII and CJK unified ideographs are NFKC-stable; full-width ASCII maps to ASCII (U+FF01–FF5E → U+0021–007E).
  if (code < 0xa0 || (code >= 0x4e00 && code <= 0x9fff)) return text[i]!;
  if (code >= 0xff01 && code <= 0xff5e) return String.fromCharCode(code - 0xfee0);
  return text.slice(i, i + width).normalize('NFKC');
}

/** The NFKC form of `text`, with each output UTF-16 unit's source range in `text`. */
function normalise(text: string): { text: string; from: number[]; to: number[] } {
  let out = '';
  const from: number[] = [];
  const to: number[] = [];
  // Per code point, so every output unit maps to one input character (whole-string NFKC may
  // compose across characters, which only matters for letters with combining marks).
  for (let i = 0; i < text.length;) {
    const code = text.codePointAt(i)!;
    const width = code > 0xffff ? 2 : 1;
    const n = nfkcOf(code, text, i, width);
    for (let k = 0; k < n.length; k++) {
      from.push(i);
      to.push(i + width);
    }
    out += n;
    i += width;
  }
  return { text: out, from, to };
}

/**
 * Every piece of personal data in `text`, in order, without overlaps (the longer span wins).
 *
 * @example
 * findPersonalData('mail me: ann@example.org, 电话 138 1234 5678');
 * // [{ kind: 'email', start: 9, end: 24, text: 'ann@example.org' }, { kind: 'phone', start: 29, end: 42, text: '138 1234 5678' }]
 */
export function findPersonalData(text: string): PiiSpan[] {
  if (!ANY.test(text)) return [];
  // Mapping offsets costs a pass per character: only for texts whose NFKC form can hold a finding.
  const whole = text.normalize('NFKC');
  if (!ANY_ASCII.test(whole)) return [];
  const norm = whole === text ? undefined : normalise(text);
  const s = norm?.text ?? text;
  const open = new Map<Gate, boolean>();
  const found: { kind: PiiKind; start: number; end: number; rank: number }[] = [];
  DETECTORS.forEach((detector, rank) => {
    if (!open.has(detector.gate)) open.set(detector.gate, GATES[detector.gate](s));
    if (!open.get(detector.gate)) return;
    for (const m of s.matchAll(detector.pattern)) {
      const hit = detector.accept(m[0]);
      if (hit !== undefined) found.push({ kind: detector.kind, start: m.index!, end: m.index! + hit.length, rank });
    }
  });
  found.sort((a, b) => a.start - b.start || b.end - b.start - (a.end - a.start) || a.rank - b.rank);
  // Sorted by start, then longest: a span overlapping an earlier kept one is dropped, so a card
  // number inside a URL is reported once, as the URL.
  const kept: typeof found = [];
  for (const f of found) if (kept.length === 0 || f.start >= kept[kept.length - 1]!.end) kept.push(f);
  return kept.map(({ kind, start, end }) => {
    const [a, b] = norm ? [norm.from[start]!, norm.to[end - 1]!] : [start, end];
    return { kind, start: a, end: b, text: text.slice(a, b) };
  });
}

/** `[EMAIL]`, `[PHONE]`, …: what redaction writes in place of a span of `kind`. */
export function piiPlaceholder(kind: PiiKind): string {
  return `[${kind.toUpperCase()}]`;
}

/**
 * `text` with every span replaced by its placeholder; `spans` default to findPersonalData(text).
 *
 * @example
 * redactPersonalData('call +44 20 7946 0958'); // { text: 'call [PHONE]', spans: [...] }
 */
export function redactPersonalData(
  text: string,
  spans: readonly PiiSpan[] = findPersonalData(text),
): { text: string; spans: readonly PiiSpan[] } {
  let out = '';
  let at = 0;
  for (const span of spans) {
    out += text.slice(at, span.start) + piiPlaceholder(span.kind);
    at = span.end;
  }
  return { text: out + text.slice(at), spans };
}

/** Masks the letters/digits of `s` between the first `head` and the last `tail`, keeping separators. */
function maskMiddle(s: string, head: number, tail: number): string {
  const total = [...s].filter((c) => /[\p{L}\p{N}]/u.test(c)).length;
  let seen = 0;
  return [...s]
    .map((c) => {
      if (!/[\p{L}\p{N}]/u.test(c)) return c;
      seen += 1;
      return seen <= head || seen > total - tail ? c : '*';
    })
    .join('');
}

/**
 * A printable form of a finding that never shows the whole value: `4111 **** **** 1111`,
 * `a***@example.org`, `https://host/path?token=***`.
 *
 * @example
 * maskPersonalData({ kind: 'bank_card', start: 0, end: 19, text: '4111 1111 1111 1111' }); // '4111 **** **** 1111'
 */
export function maskPersonalData(span: Pick<PiiSpan, 'kind' | 'text'>): string {
  const t = span.text;
  switch (span.kind) {
    case 'email': {
      const at = t.lastIndexOf('@');
      return `${[...t.slice(0, at)][0] ?? ''}***${t.slice(at)}`;
    }
    case 'url_token':
      return t
        .replace(/^([a-z][a-z0-9+.-]*:\/\/)[^/?#@\s]*:[^/?#@\s]+@/i, '$1***:***@')
        .replace(/([?#&;])([^=&;#]+)=([^&;#]*)/g, (all, sep: string, key: string) =>
          SECRET_URL_KEYS.has(decodeKey(key).toLowerCase()) ? `${sep}${key}=***` : all,
        );
    case 'bank_card':
    case 'iban':
      return maskMiddle(t, 4, 4);
    case 'us_ssn':
      return maskMiddle(t, 0, 4);
    case 'cn_resident_id':
    case 'phone':
      return maskMiddle(t, 3, 4);
  }
}
