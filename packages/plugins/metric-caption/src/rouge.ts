// ROUGE-L as pycocoevalcap computes it (tylin/coco-caption pycocoevalcap/rouge/rouge.py):
// LCS of candidate and each reference, the best precision and the best recall taken separately
// over the references, then F with beta = 1.2. Tokens are the caption split on single spaces.

const BETA = 1.2;

/** Length of the longest common subsequence (rouge.py `my_lcs`). */
export function lcsLength(a: readonly string[], b: readonly string[]): number {
  const [long, short] = a.length >= b.length ? [a, b] : [b, a];
  // One row of the DP table suffices; `prev` is row i-1, `row` is row i.
  let prev = new Uint32Array(short.length + 1);
  let row = new Uint32Array(short.length + 1);
  for (let i = 1; i <= long.length; i++) {
    const token = long[i - 1];
    for (let j = 1; j <= short.length; j++) {
      row[j] = token === short[j - 1] ? prev[j - 1]! + 1 : Math.max(prev[j]!, row[j - 1]!);
    }
    [prev, row] = [row, prev];
  }
  return prev[short.length]!;
}

/**
 * ROUGE-L of one candidate (rouge.py `calc_score`). Captions are token lists; an empty caption
 * counts as one empty token, as Python's `''.split(' ')` gives `['']`.
 *
 * @example
 * rougeL(['a', 'cat'], [['a', 'cat']]); // 1
 */
export function rougeL(candidate: readonly string[], references: readonly (readonly string[])[]): number {
  const cand = candidate.length === 0 ? [''] : candidate;
  let precMax = 0;
  let recMax = 0;
  for (const reference of references) {
    const ref = reference.length === 0 ? [''] : reference;
    const lcs = lcsLength(ref, cand);
    precMax = Math.max(precMax, lcs / cand.length);
    recMax = Math.max(recMax, lcs / ref.length);
  }
  if (precMax === 0 || recMax === 0) return 0;
  return ((1 + (BETA * BETA)) * precMax * recMax) / (recMax + (BETA * BETA) * precMax);
}
