// English reference agreement as SQuAD v1.1's official evaluate-v1.1.py scores it (its
// normalize_answer, f1_score and exact_match_score; the same rules lm-evaluation-harness copies in
// lm_eval/tasks/qasper/metrics.py): lower-case, drop ASCII punctuation, drop the articles a/an/the
// as whole words, collapse whitespace; F1 over the multiset of shared tokens.

/** Python's string.punctuation: the 32 ASCII punctuation characters. */
const ASCII_PUNCTUATION = new Set('!"#$%&\'()*+,-./:;<=>?@[\\]^_`{|}~');

// Python 3's \b on str is Unicode-aware (word characters are letters, digits and "_"); JavaScript's
// \b is ASCII-only, so the word boundary is spelled out.
const ARTICLES = /(?<![\p{L}\p{N}_])(?:a|an|the)(?![\p{L}\p{N}_])/gu;

/**
 * The normalised text: lower → remove punctuation → remove articles → whitespace fix (that order).
 *
 * @example
 * normalizeSquad('The  Red, circle!'); // 'red circle'
 */
export function normalizeSquad(text: string): string {
  const lower = text.toLowerCase();
  const unpunctuated = [...lower].filter((ch) => !ASCII_PUNCTUATION.has(ch)).join('');
  return unpunctuated
    .replace(ARTICLES, ' ')
    .split(/\s+/u)
    .filter((t) => t !== '')
    .join(' ');
}

const tokensOf = (text: string): string[] => {
  const normal = normalizeSquad(text);
  return normal === '' ? [] : normal.split(' ');
};

/** Precision/recall F1 from a shared count; 0 when nothing is shared (also when either side is empty). */
export function f1FromOverlap(shared: number, predicted: number, reference: number): number {
  if (shared === 0) return 0;
  const precision = shared / predicted;
  const recall = shared / reference;
  return (2 * precision * recall) / (precision + recall);
}

/**
 * Token F1 in [0, 1]: shared tokens counted with multiplicity (Python's Counter intersection).
 *
 * @example
 * squadF1('a red circle', 'the red square'); // 0.5 (one of two tokens on each side)
 */
export function squadF1(prediction: string, reference: string): number {
  const predicted = tokensOf(prediction);
  const expected = tokensOf(reference);
  const counts = new Map<string, number>();
  for (const t of expected) counts.set(t, (counts.get(t) ?? 0) + 1);
  let shared = 0;
  for (const t of predicted) {
    const left = counts.get(t) ?? 0;
    if (left > 0) {
      shared += 1;
      counts.set(t, left - 1);
    }
  }
  return f1FromOverlap(shared, predicted.length, expected.length);
}

/** 1 when the normalised texts are equal, else 0. */
export const squadExact = (prediction: string, reference: string): number =>
  normalizeSquad(prediction) === normalizeSquad(reference) ? 1 : 0;
