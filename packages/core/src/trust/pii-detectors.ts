// The detectors behind findPersonalData (./pii.ts): one pattern per kind family, each with the
// checksum or shape test a match must pass before it is reported, and the cheap gates that skip a
// pattern on texts that cannot hold its kind.

/** The kinds of personal data found; `[KIND]` in upper case is the redaction placeholder. */
export const PII_KINDS = ['email', 'phone', 'bank_card', 'cn_resident_id', 'us_ssn', 'iban', 'url_token'] as const;
export type PiiKind = (typeof PII_KINDS)[number];

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

/** A query key as written, percent-decoded where it decodes. */
export function decodeKey(key: string): string {
  try {
    return decodeURIComponent(key);
  } catch {
    return key;
  }
}

const digitsOf = (s: string) => s.replace(/\D/g, '');

/** Cheap tests a text must pass before a detector's pattern runs over it. */
export type Gate = 'scheme' | 'at' | 'iban' | 'digits';
export const GATES: Record<Gate, (s: string) => boolean> = {
  scheme: (s) => s.includes('://'),
  at: (s) => s.includes('@'),
  iban: (s) => /[A-Z]{2}\d{2}/.test(s),
  // Every numeric kind has at least 8 digits (E.164's minimum), with at most a separator or two between.
  digits: (s) => /\d(?:[ .()-]{0,2}\d){7}/.test(s),
};

export interface Detector {
  readonly kind: PiiKind;
  readonly gate: Gate;
  readonly pattern: RegExp;
  /** The span to report for a match (a shorter prefix or none); default: the whole match when `valid`. */
  readonly accept: (match: string) => string | undefined;
}

const when = (test: (s: string) => boolean) => (s: string) => (test(s) ? s : undefined);
const URL_TRAILING = /[.,;:!?)\]'"]+$/;

// Order is the tie-break between overlapping spans of equal length (earlier wins).
export const DETECTORS: readonly Detector[] = [
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
