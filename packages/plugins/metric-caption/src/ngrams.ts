// N-gram counting shared by BLEU and CIDEr: `precook` of pycocoevalcap bleu/bleu_scorer.py and
// cider/cider_scorer.py. One Map per order keeps Python's dict insertion order (k = 1..n, then
// left to right), which fixes the summation order of CIDEr's norms and dot products.

/** Counts of the 1..n-grams of one sentence; `counts[k - 1]` holds the k-grams. */
export type NgramCounts = Map<string, number>[];

/**
 * Count all 1..n-grams of a token list (n-gram key: tokens joined by one space).
 *
 * @example
 * precook(['a', 'a'], 2)[0].get('a'); // 2
 */
export function precook(tokens: readonly string[], n = 4): NgramCounts {
  const counts: NgramCounts = Array.from({ length: n }, () => new Map<string, number>());
  // Keys grow one token at a time; each order's Map still receives its n-grams left to right.
  for (let i = 0; i < tokens.length; i++) {
    let key = tokens[i]!;
    for (let k = 0; k < n && i + k < tokens.length; k++) {
      if (k > 0) key = `${key} ${tokens[i + k]!}`;
      const map = counts[k]!;
      map.set(key, (map.get(key) ?? 0) + 1);
    }
  }
  return counts;
}
