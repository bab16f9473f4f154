// Reading a blocklist file and turning its terms into one matcher. Terms in scripts written with
// spaces between words (English) match case-insensitively as whole words: "ass" does not match
// "assistant"; terms in Chinese (and Japanese kana) match as substrings, since those scripts put no
// spaces between words. A term mixing both gets the word check only at its spaced-script edges.
import * as fs from 'node:fs';
import { MmftError } from '@mmft/core';

/** One blocked term with the file line it came from (1-based, for reasons and messages). */
export interface Term {
  readonly text: string;
  readonly line: number;
}

const WORD_CHAR = /[\p{L}\p{N}_]/u;
const UNSPACED = /[\p{Script=Han}\p{Script=Hiragana}\p{Script=Katakana}]/u;

/** Whether a term's edge character takes a word-boundary check (a letter or digit of a spaced script). */
export const needsBoundary = (ch: string): boolean => WORD_CHAR.test(ch) && !UNSPACED.test(ch);

/** The terms of a blocklist file; an unreadable or empty file is an error naming it. */
export function readTerms(file: string): Term[] {
  let text: string;
  try {
    text = fs.readFileSync(file, 'utf8');
  } catch (cause) {
    throw new MmftError('E_INPUT', `blocklist file ${file}: cannot read it (${(cause as Error).message})`, {
      cause,
      hint: 'give the path of a UTF-8 text file with one term per line (--filter blocklist:FILE)',
    });
  }
  const terms = text
    .replace(/^\uFEFF/, '')
    .split(/\r?\n/)
    .map((raw, i) => ({ text: raw.trim().normalize('NFC'), line: i + 1 }))
    .filter((t) => t.text !== '' && !t.text.startsWith('#'));
  if (terms.length === 0) {
    throw new MmftError('E_INPUT', `blocklist file ${file}: no terms (every line is blank or a # comment)`, {
      hint: 'write one blocked term per line',
    });
  }
  return terms;
}

const escape = (s: string): string => s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');

/** One regex over all terms, longest first so the longest of two overlapping terms wins. */
export function termsPattern(terms: readonly Term[]): RegExp {
  const alternatives = [...terms]
    .sort((a, b) => [...b.text].length - [...a.text].length)
    .map((t) => {
      const chars = [...t.text];
      const before = needsBoundary(chars[0]!) ? '(?<![\\p{L}\\p{N}_])' : '';
      const after = needsBoundary(chars[chars.length - 1]!) ? '(?![\\p{L}\\p{N}_])' : '';
      return `${before}${escape(t.text)}${after}`;
    });
  return new RegExp(alternatives.join('|'), 'giu');
}

/** Whether any term checks the character after it (then a match at the end of a piece is not yet certain). */
export const anyTrailingBoundary = (terms: readonly Term[]): boolean => terms.some((t) => needsBoundary([...t.text].pop()!));
