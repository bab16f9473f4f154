// Chinese reference agreement as the CMRC 2018 evaluation scores it (ymcui/cmrc2018
// squad-style-data/cmrc2018_evaluate.py: mixed_segmentation, remove_punctuation, find_lcs,
// calc_f1_score, calc_em_score). Every CJK ideograph (U+4E00..U+9FA5, the script's range) is a token;
// the text between them is split into words; F1 is over the longest common *contiguous* run of
// tokens (the script's find_lcs), not a bag of tokens as in SQuAD.
import { f1FromOverlap } from './squad';

/**
 * The script's sp_char list, removed before scoring. Its entry '……' is two characters, so a single
 * '…' never matches it and stays, as in the script; '‘' is not listed and stays too.
 */
const CMRC_PUNCTUATION = new Set([...'-:_*^/\\~`+=', ...'，。：？！“”；’《》·、「」（）－～『』']);

const CJK = /[\u4e00-\u9fa5]/u;

// The script splits the text between ideographs with nltk.word_tokenize; with no nltk here, words
// are runs of letters, digits and marks, and any other visible character is a token of its own.
// That is nltk's result for ordinary words and trailing punctuation ("red." → red .); it differs on
// contractions ("don't") and decimals ("3.5" → 3 . 5).
const WORDS = /[\p{L}\p{N}\p{M}]+|[^\s\p{L}\p{N}\p{M}]/gu;

/**
 * Tokens of `text` after lower-casing, trimming and removing the listed punctuation.
 *
 * @example
 * segmentCmrc('两个red circles。'); // ['两', '个', 'red', 'circles']
 */
export function segmentCmrc(text: string): string[] {
  const out: string[] = [];
  let run = '';
  const flush = () => {
    out.push(...(run.match(WORDS) ?? []));
    run = '';
  };
  for (const ch of text.toLowerCase().trim()) {
    if (CMRC_PUNCTUATION.has(ch)) continue;
    if (CJK.test(ch)) {
      flush();
      out.push(ch);
    } else run += ch;
  }
  flush();
  return out;
}

/** The text lower-cased and trimmed, the listed punctuation removed (the script's remove_punctuation). */
export const stripCmrc = (text: string): string => [...text.toLowerCase().trim()].filter((ch) => !CMRC_PUNCTUATION.has(ch)).join('');

/** Length of the longest common contiguous run of tokens. */
export function longestCommonRun(a: readonly string[], b: readonly string[]): number {
  let best = 0;
  let previous = new Array<number>(b.length + 1).fill(0);
  for (let i = 0; i < a.length; i++) {
    const current = new Array<number>(b.length + 1).fill(0);
    for (let j = 0; j < b.length; j++) {
      if (a[i] === b[j]) {
        current[j + 1] = previous[j]! + 1;
        best = Math.max(best, current[j + 1]!);
      }
    }
    previous = current;
  }
  return best;
}

/**
 * F1 in [0, 1] over the longest common run of tokens.
 *
 * @example
 * cmrcF1('红色的圆', '一个红色的圆形'); // run 红色的圆 = 4 tokens: P 4/4, R 4/7, F1 8/11
 */
export function cmrcF1(prediction: string, reference: string): number {
  const predicted = segmentCmrc(prediction);
  const expected = segmentCmrc(reference);
  return f1FromOverlap(longestCommonRun(expected, predicted), predicted.length, expected.length);
}

/** 1 when the texts are equal after stripCmrc, else 0. */
export const cmrcExact = (prediction: string, reference: string): number => (stripCmrc(prediction) === stripCmrc(reference) ? 1 : 0);
