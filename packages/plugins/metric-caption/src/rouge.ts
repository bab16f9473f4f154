// ROUGE-L as pycocoevalcap computes it (tylin/coco-caption pycocoevalcap/rouge/rouge.py):
// LCS of candidate and each reference, the best precision and the best recall taken separately
// over the references, then F with beta = 1.2. Tokens are the caption split on single spaces.

const BETA = 1.2;
/** lcsLength's two DP rows, reused across calls (they are all synchronous). */
let rows = new Uint32Array(256);

/**
 * Length of the longest common subsequence (rouge.py `my_lcs`) of two token sequences: strings,
 * or the token ids of a cooked corpus (equal ids ⇔ equal tokens).
 *
 * @example
 * lcsLength(['a', 'b', 'c'], ['a', 'c']); // 2
 */
export function lcsLength<T>(a: ArrayLike<T>, b: ArrayLike<T>): number {
  const long = a.length >= b.length ? a : b;
  const short = a.length >= b.length ? b : a;
  const width = short.length + 1;
  if (rows.length < 2 * width) rows = new Uint32Array(4 * width);
  // One row of the DP table suffices: row i-1 lives at `prev`, row i at `row`, swapped per i.
  let prev = 0;
  let row = width;
  rows.fill(0, 0, 2 * width);
  for (let i = 1; i <= long.length; i++) {
    const token = long[i - 1];
    for (let j = 1; j <= short.length; j++) {
      rows[row + j] = token === short[j - 1] ? rows[prev + j - 1]! + 1 : Math.max(rows[prev + j]!, rows[row + j - 1]!);
    }
    [prev, row] = [row, prev];
  }
  return rows[prev + short.length]!;
}

/**
 * ROUGE-L of one candidate (rouge.py `calc_score`). Captions are token lists; an empty caption
 * counts as one empty token, as Python's `''.split(' ')` gives `['']`.
 *
 * @example
 * rougeL(['a', 'cat'], [['a', 'cat']]); // 1
 */
export function rougeL(candidate: readonly string[], references: readonly (readonly string[])[]): number {
  return rougeLOf(candidate, references, '');
}

/**
 * `rougeL` over any token type; `empty` stands for the empty token (for token ids: the id of '').
 *
 * @example
 * rougeLOf(Int32Array.of(0, 1), [Int32Array.of(0, 1)], -1); // 1
 */
export function rougeLOf<T>(candidate: ArrayLike<T>, references: readonly ArrayLike<T>[], empty: T): number {
  const cand = candidate.length === 0 ? [empty] : candidate;
  let precMax = 0;
  let recMax = 0;
  for (const reference of references) {
    const ref = reference.length === 0 ? [empty] : reference;
    const lcs = lcsLength(ref, cand);
    precMax = Math.max(precMax, lcs / cand.length);
    recMax = Math.max(recMax, lcs / ref.length);
  }
  if (precMax === 0 || recMax === 0) return 0;
  return ((1 + BETA * BETA) * precMax * recMax) / (recMax + BETA * BETA * precMax);
}
