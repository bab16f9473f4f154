// The tokenisers the caption metric can use: pycocoevalcap's PTB emulation, per-character
// Chinese (the toolkit has no CJK support, so papers on Chinese captions score characters), and
// plain whitespace for text that is already tokenised.
import { PTB_PUNCTUATIONS, ptbTokenize } from './ptb-tokenizer';

/** Full-width and CJK punctuation dropped by the Chinese tokeniser, like PTB_PUNCTUATIONS for English. */
const CJK_PUNCTUATION = /^[\u3000-\u303F\uFF01-\uFF0F\uFF1A-\uFF20\uFF3B-\uFF40\uFF5B-\uFF65\u2018-\u201F\u2026\u00B7]$/u;

/**
 * Chinese captions: every CJK character (or other non-Latin letter) is a token; runs of Latin
 * letters and digits stay one token; punctuation is dropped; Latin text is lower-cased.
 *
 * @example
 * chineseCharTokenize('一只狗在草地上奔跑。'); // ['一','只','狗','在','草','地','上','奔','跑']
 */
export function chineseCharTokenize(caption: string): string[] {
  const tokens: string[] = [];
  for (const match of caption.toLowerCase().matchAll(/[a-z0-9]+(?:[.,'-][a-z0-9]+)*|\S/gu)) {
    const token = match[0];
    if (CJK_PUNCTUATION.test(token) || PTB_PUNCTUATIONS.has(token) || /^[^\p{L}\p{N}]$/u.test(token)) continue;
    tokens.push(token);
  }
  return tokens;
}

/** Split on whitespace only (captions already tokenised upstream). */
export function whitespaceTokenize(caption: string): string[] {
  return caption.split(/\s+/).filter((t) => t !== '');
}

export type TokenizerName = 'ptb' | 'chinese-char' | 'none';

/** The tokeniser function for a config name. */
export function tokenizerFor(name: TokenizerName): (caption: string) => string[] {
  if (name === 'chinese-char') return chineseCharTokenize;
  if (name === 'none') return whitespaceTokenize;
  return ptbTokenize;
}
