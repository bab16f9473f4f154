// The tokenisers the caption metric can use. pycocoevalcap's PTBTokenizer splits only on spaces
// and punctuation, so an unsegmented Chinese caption would be one "word"; Chinese is scored by
// character (`char`) or after word segmentation (`jieba`), and any non-Chinese text inside a
// caption still goes through the PTB emulation, so English numbers stay as `ptb` gives them.
// Word-level scoring after jieba is what the AI Challenger 2017 caption evaluation does
// (AIChallenger/AI_Challenger_2017 Evaluation/caption_eval/coco_caption/pycxtools/coco.py,
// `loadRes`: jieba.cut(caption, cut_all=False), HMM on, then PTBTokenizer); see docs/metrics.md.
import { MmftError } from '@mmft/core';
import { ptbTokenize } from './ptb-tokenizer';

/**
 * Every `tokenizer` value the config accepts. `chinese-char` is the earlier name of `char`;
 * `none` splits on whitespace only (captions tokenised upstream).
 */
export const TOKENIZER_NAMES = ['ptb', 'char', 'jieba', 'none', 'chinese-char'] as const;
export type TokenizerName = (typeof TOKENIZER_NAMES)[number];
/** The tokeniser a name resolves to (what reports print). */
export type ResolvedTokenizer = Exclude<TokenizerName, 'chinese-char'>;

/** Characters scored as Chinese/Japanese: Han ideographs (incl. 〇 々) and kana. */
const CJK = /[\p{Script=Han}\p{Script=Hiragana}\p{Script=Katakana}]/u;
// CJK and full-width punctuation: PTB does not know it, so it is dropped here as PTB drops its
// own punctuation (the AI Challenger evaluation removes "。" before segmenting). Han characters in
// these blocks (〇 々 〆, the Hangzhou numerals) are tested first and survive.
const CJK_PUNCTUATION =
  /[\u3000-\u303F\u30FB\uFE10-\uFE1F\uFE30-\uFE4F\uFF01-\uFF0F\uFF1A-\uFF20\uFF3B-\uFF40\uFF5B-\uFF65\u2014\u2018-\u201F\u2026\u00B7]/u;
// Full-width digits and Latin letters (０-９, Ａ-Ｚ, ａ-ｚ) become ASCII, so "２" matches "2".
const FULL_WIDTH_ALNUM = /[\uFF10-\uFF19\uFF21-\uFF3A\uFF41-\uFF5A]/gu;

/** Full-width letters/digits to ASCII and CJK punctuation to spaces, before segmentation. */
function normalizeCjkText(caption: string): string {
  const folded = caption.replace(FULL_WIDTH_ALNUM, (c) => String.fromCharCode(c.charCodeAt(0) - 0xfee0));
  let out = '';
  for (const ch of folded) out += !CJK.test(ch) && CJK_PUNCTUATION.test(ch) ? ' ' : ch;
  return out;
}

/**
 * Character-level tokens: every Han/kana character is one token; the text between them (Latin
 * words, digits) is tokenised as `ptb` does; CJK and full-width punctuation is dropped.
 *
 * @example
 * charTokenize('一只狗，在草地上。OK'); // ['一','只','狗','在','草','地','上','ok']
 */
export function charTokenize(caption: string): string[] {
  const tokens: string[] = [];
  let other = '';
  for (const ch of normalizeCjkText(caption)) {
    if (CJK.test(ch)) {
      if (other !== '') tokens.push(...ptbTokenize(other));
      other = '';
      tokens.push(ch);
    } else {
      other += ch;
    }
  }
  if (other !== '') tokens.push(...ptbTokenize(other));
  return tokens;
}

/** @deprecated the earlier name of {@link charTokenize}. */
export const chineseCharTokenize = charTokenize;

interface Segmenter {
  cut(sentence: string, hmm?: boolean): string[];
}
let segmenter: Segmenter | undefined;

/** The jieba segmenter with its bundled dictionary, loaded on first use (building it from the dictionary takes ~0.4 s). */
function jieba(): Segmenter {
  if (segmenter !== undefined) return segmenter;
  try {
    const { Jieba } = require('@node-rs/jieba') as typeof import('@node-rs/jieba');
    const { dict } = require('@node-rs/jieba/dict') as typeof import('@node-rs/jieba/dict');
    segmenter = Jieba.withDict(dict);
  } catch (cause) {
    throw new MmftError(
      'E_UNSUPPORTED',
      `caption metric: tokenizer "jieba" cannot load @node-rs/jieba on ${process.platform}-${process.arch}`,
      {
        cause,
        hint:
          'its prebuilt binary comes as an optional dependency for this platform: reinstall without --no-optional, ' +
          "or score with tokenizer 'char'",
      },
    );
  }
  return segmenter;
}

/**
 * Word-level tokens: jieba (@node-rs/jieba, its default dictionary, HMM on for unknown words, as
 * Python's `jieba.cut(s, cut_all=False)`) decides the word boundaries; a word with a Han/kana
 * character is one token (lower-cased, e.g. "t恤"); the text between such words is tokenised as
 * `ptb` does; CJK and full-width punctuation is dropped.
 *
 * @example
 * jiebaTokenize('一个红色的圆形。'); // ['一个','红色','的','圆形']
 */
export function jiebaTokenize(caption: string): string[] {
  const tokens: string[] = [];
  let other = '';
  for (const word of jieba().cut(normalizeCjkText(caption), true)) {
    if (CJK.test(word)) {
      if (other !== '') tokens.push(...ptbTokenize(other));
      other = '';
      tokens.push(word.toLowerCase());
    } else {
      // jieba cuts Latin text into letters, apostrophes and spaces; rejoined, PTB sees it whole.
      other += word;
    }
  }
  if (other !== '') tokens.push(...ptbTokenize(other));
  return tokens;
}

/** Split on whitespace only (captions already tokenised upstream). */
export function whitespaceTokenize(caption: string): string[] {
  return caption.split(/\s+/).filter((t) => t !== '');
}

/** The tokeniser a config name stands for (`chinese-char` is `char`). */
export function resolveTokenizer(name: TokenizerName): ResolvedTokenizer {
  if (!(TOKENIZER_NAMES as readonly string[]).includes(name)) {
    throw new MmftError('E_CONFIG', `caption metric: unknown tokenizer "${String(name)}"`, {
      hint: `use one of: ${TOKENIZER_NAMES.filter((n) => n !== 'chinese-char').join(', ')}`,
    });
  }
  return name === 'chinese-char' ? 'char' : (name as ResolvedTokenizer);
}

/**
 * The tokeniser function for a config name.
 *
 * @example
 * tokenizerFor('char')('红色的圆形'); // ['红','色','的','圆','形']
 */
export function tokenizerFor(name: TokenizerName): (caption: string) => string[] {
  const resolved = resolveTokenizer(name);
  if (resolved === 'char') return charTokenize;
  if (resolved === 'jieba') {
    jieba(); // fail when the metric is created, not at the first caption
    return jiebaTokenize;
  }
  if (resolved === 'none') return whitespaceTokenize;
  return ptbTokenize;
}
