// numpy's float64 summation order, so corpus means equal pycocoevalcap's `np.mean` bit for bit:
// pairwise summation with 8 accumulators and blocks of 128 (numpy/_core/src/umath/
// loops_utils.h.src, `pairwise_sum`). A plain left-to-right sum can differ in the last ulp.

const BLOCK = 128;

function pairwise(values: ArrayLike<number>, start: number, n: number): number {
  if (n < 8) {
    let res = 0;
    for (let i = 0; i < n; i++) res += values[start + i]!;
    return res;
  }
  if (n <= BLOCK) {
    const r = [0, 1, 2, 3, 4, 5, 6, 7].map((j) => values[start + j]!);
    let i = 8;
    for (; i < n - (n % 8); i += 8) for (let j = 0; j < 8; j++) r[j]! += values[start + i + j]!;
    let res = r[0]! + r[1]! + (r[2]! + r[3]!) + (r[4]! + r[5]! + (r[6]! + r[7]!));
    for (; i < n; i++) res += values[start + i]!;
    return res;
  }
  let half = Math.floor(n / 2);
  half -= half % 8;
  return pairwise(values, start, half) + pairwise(values, start + half, n - half);
}

/**
 * `np.mean(values)` for a 1-D float64 array (NaN for an empty one, as numpy).
 *
 * @example
 * numpyMean([1, 2, 3]); // 2
 */
export function numpyMean(values: ArrayLike<number>): number {
  if (values.length === 0) return Number.NaN;
  return pairwise(values, 0, values.length) / values.length;
}
