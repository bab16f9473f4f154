// Personal data in free text: e-mail addresses, phone numbers, bank-card-like numbers (Luhn),
// Chinese resident IDs (GB 11643-1999), US SSNs, IBANs (ISO 13616 mod-97) and URLs carrying
// secrets, in English and Chinese. Numbers with a checksum are reported only when it holds, so a
// random 16-digit id is not a "card". Matching runs on the NFKC form (full-width digits and "＠"
// become ASCII) and spans are mapped back to the original text. Used by `mmft data validate`.

/** The kinds of personal data found; `[KIND]` in upper case is the redaction placeholder. */
export const PII_KINDS = ['email', 'phone', 'bank_card', 'cn_resident_id', 'us_ssn', 'iban', 'url_token'] as const;
export type PiiKind = (typeof PII_KINDS)[number];

/** One finding: `text` is `input.slice(start, end)` (UTF-16 offsets into the original text). */
export interface PiiSpan {
  readonly kind: PiiKind;
  readonly start: number;
  readonly end: number;
  readonly text: string;
}

/** Query keys whose value is a secret (lower case; compared case-insensitively). */
export const SECRET_URL_KEYS: ReadonlySet<string> = new Set([
  'token',
  'access_token',
  'refresh_token',
  'id_token',
  'auth',
  'auth_token',
  'api_key',
  'apikey',
  'key',
  'sig',
  'signature',
  'x-amz-signature',
  'password',
  'passwd',
  'pwd',
  'secret',
  'client_secret',
  'session',
  'sessionid',
]);

/** True when the digits pass the Luhn (ISO/IEC 7812-1) check. */
export function luhnValid(digits: string): boolean {
  let sum = 0;
  for (let i = 0; i < digits.length; i++) {
    let d = digits.charCodeAt(digits.length - 1 - i) - 48;
    if (i % 2 === 1) d = d * 2 > 9 ? d * 2 - 9 : d * 2;
    sum += d;
  }
  return digits.length > 0 && sum % 10 === 0;
}

const ID_WEIGHTS = [7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2];
const ID_CHECK = '10X98765432';

/** True for an 18-character resident ID whose ISO 7064 MOD 11-2 check character and birth date hold. */
export function cnResidentIdValid(id: string): boolean {
  if (!/^[1-9]\d{16}[\dX]$/i.test(id)) return false;
  const sum = ID_WEIGHTS.reduce((s, w, i) => s + w * (id.charCodeAt(i) - 48), 0);
  if (ID_CHECK[sum % 11] !== id[17]!.toUpperCase()) return false;
  const [y, m, d] = [Number(id.slice(6, 10)), Number(id.slice(10, 12)), Number(id.slice(12, 14))];
  const date = new Date(Date.UTC(y, m - 1, d));
  return y >= 1850 && date.getTime() <= Date.now() && date.getUTCMonth() === m - 1 && date.getUTCDate() === d;
}

/** True when an IBAN (spaces allowed) passes the mod-97 check of ISO 13616 (remainder 1). */
export function ibanValid(iban: string): boolean {
  const s = iban.replace(/ /g, '').toUpperCase();
  if (!/^[A-Z]{2}\d{2}[A-Z0-9]{11,30}$/.test(s)) return false;
  let rest = 0;
  for (const ch of s.slice(4) + s.slice(0, 4)) {
    const v = ch >= 'A' ? String(ch.charCodeAt(0) - 55) : ch;
    for (const digit of v) rest = (rest * 10 + Number(digit)) % 97;
  }
  return rest === 1;
}

/** True when an SSN written AAA-GG-SSSS is possible: area not 000, 666 or 9xx; group and serial not zero. */
export function usSsnValid(ssn: string): boolean {
  const m = /^(\d{3})[- ](\d{2})[- ](\d{4})$/.exec(ssn);
  if (!m) return false;
  const [area, group, serial] = [m[1]!, m[2]!, m[3]!];
  return area !== '000' && area !== '666' && area[0] !== '9' && group !== '00' && serial !== '0000';
}

/** True when a URL carries credentials (user:pass@) or a query/fragment key from SECRET_URL_KEYS. */
export function urlHasToken(url: string): boolean {
  if (/^[a-z][a-z0-9+.-]*:\/\/[^/?#@\s]*:[^/?#@\s]+@/i.test(url)) return true;
  const params = url.split(/[?#]/).slice(1).join('&');
  return params.split(/[&;]/).some((pair) => {
    const eq = pair.indexOf('=');
    return eq > 0 && eq < pair.length - 1 && SECRET_URL_KEYS.has(decodeKey(pair.slice(0, eq)).toLowerCase());
  });
}

function decodeKey(key: string): string {
  try {
    return decodeURIComponent(key);
  } catch {
    return key;
  }
}

const digitsOf = (s: string) => s.replace(/\D/g, '');

/** Cheap tests a text must pass before a detector's pattern runs over it. */
type Gate = 'scheme' | 'at' | 'iban' | 'digits';
const GATES: Record<Gate, (s: string) => boolean> = {
  scheme: (s) => s.includes('://'),
  at: (s) => s.includes('@'),
  iban: (s) => /[A-Z]{2}\d{2}/.test(s),
  // Every numeric kind has at least 8 digits (E.164's minimum), with at most a separator or two between.
  digits: (s) => /\d(?:[ .()-]{0,2}\d){7}/.test(s),
};

interface Detector {
  readonly kind: PiiKind;
  readonly gate: Gate;
  readonly pattern: RegExp;
  /** The span to report for a match (a shorter prefix or none); default: the whole match when `valid`. */
  readonly accept: (match: string) => string | undefined;
}

const when = (test: (s: string) => boolean) => (s: string) => (test(s) ? s : undefined);
const URL_TRAILING = /[.,;:!?)\]'"]+$/;

// Order is the tie-break between overlapping spans of equal length (earlier wins).
const DETECTORS: readonly Detector[] = [
  {
    kind: 'url_token',
    gate: 'scheme',
    pattern: /\b(?:https?|ftp|wss?):\/\/[A-Za-z0-9\-._~:/?#[\]@!$&'()*+,;=%]+/g,
    accept: (s) => {
      const url = s.replace(URL_TRAILING, '');
      return urlHasToken(url) ? url : undefined;
    },
  },
  {
    kind: 'email',
    gate: 'at',
    pattern: /(?<![A-Za-z0-9._%+-])[A-Za-z0-9._%+-]+@[A-Za-z0-9-]+(?:\.[A-Za-z0-9-]+)*\.[A-Za-z]{2,}(?![A-Za-z0-9-])/g,
    accept: (s) => s,
  },
  {
    kind: 'iban',
    gate: 'iban',
    pattern: /(?<![A-Za-z0-9])[A-Z]{2}\d{2}(?: ?[A-Z0-9]){11,30}(?![A-Za-z0-9])/g,
    // Greedy grouping can swallow a following upper-case word: try shorter prefixes at the spaces.
    accept: (s) => {
      for (let cut = s.length; cut > 0; cut = s.lastIndexOf(' ', cut - 1)) {
        if (ibanValid(s.slice(0, cut))) return s.slice(0, cut);
      }
      return undefined;
    },
  },
  { kind: 'cn_resident_id', gate: 'digits', pattern: /(?<![0-9A-Za-z])\d{17}[\dXx](?![0-9A-Za-z])/g, accept: when(cnResidentIdValid) },
  { kind: 'bank_card', gate: 'digits', pattern: /(?<![\d-])\d(?:[ -]?\d){12,18}(?![\d])/g, accept: when((s) => luhnValid(digitsOf(s))) },
  { kind: 'us_ssn', gate: 'digits', pattern: /(?<![\d-])\d{3}([- ])\d{2}\1\d{4}(?![\d-])/g, accept: when(usSsnValid) },
  // E.164 as written: +, country code, 8–15 digits in all, spaces/dots/dashes/brackets between.
  {
    kind: 'phone',
    gate: 'digits',
    pattern: /(?<![\w+])\+[1-9](?:[ .-]?\(?\d\)?){7,14}(?!\d)/g,
    accept: when((s) => digitsOf(s).length >= 8 && digitsOf(s).length <= 15),
  },
  // Chinese mobile numbers (1[3-9] + 9 digits), optionally grouped 3-4-4 and prefixed 86 / 0086.
  { kind: 'phone', gate: 'digits', pattern: /(?<![\d+])(?:(?:00)?86[ -]?)?1[3-9]\d(?:[ -]?\d{4}){2}(?!\d)/g, accept: (s) => s },
  // North American numbers need their usual punctuation: a bare 10-digit run is too often an id.
  {
    kind: 'phone',
    gate: 'digits',
    pattern: /(?<![\d+])(?:1[ .-]?)?(?:\([2-9]\d{2}\) ?|[2-9]\d{2}[ .-])[2-9]\d{2}[ .-]\d{4}(?!\d)/g,
    accept: (s) => s,
  },
  // UK national form: a leading 0 and 10 or 11 digits (07700 900123, 020 7946 0958).
  {
    kind: 'phone',
    gate: 'digits',
    pattern: /(?<![\d+])0[1-37]\d{1,4}[ -]?\d{3,4}[ -]?\d{3,4}(?!\d)/g,
    accept: when((s) => digitsOf(s).length === 10 || digitsOf(s).length === 11),
  },
];

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
