// From ranks to the numbers papers print: Recall@K in percent, MRR, median rank (VSE++'s
// floor(median(0-based ranks)) + 1) and mAP (mean over queries of average precision).

/** `np.median` of the values: mean of the two middle ones for an even count. */
function median(values: ArrayLike<number>): number {
  const sorted = Float64Array.from(values).sort();
  const mid = sorted.length >> 1;
  return sorted.length % 2 === 1 ? sorted[mid]! : (sorted[mid - 1]! + sorted[mid]!) / 2;
}

/** Average precision of one query whose relevant items sit at these 1-based ranks. */
export function averagePrecision(ranks: ArrayLike<number>): number {
  const sorted = Float64Array.from(ranks).sort();
  let sum = 0;
  sorted.forEach((rank, j) => (sum += (j + 1) / rank));
  return sum / sorted.length;
}

/**
 * Summary of one direction.
 *
 * @example
 * summarize([1, 3], [[1], [3]], [1, 5, 10]); // { 'R@1': 50, 'R@5': 100, 'R@10': 100, mrr: 0.666…, median_rank: 2, mAP: 0.666… }
 */
export function summarize(best: ArrayLike<number>, all: ArrayLike<ArrayLike<number>>, ks: readonly number[]): Record<string, number> {
  const n = best.length;
  const out: Record<string, number> = {};
  for (const k of ks) {
    let hits = 0;
    for (let q = 0; q < n; q++) if (best[q]! <= k) hits++;
    out[`R@${k}`] = (100 * hits) / n;
  }
  let rr = 0;
  let ap = 0;
  for (let q = 0; q < n; q++) {
    rr += 1 / best[q]!;
    ap += averagePrecision(all[q]!);
  }
  out.mrr = rr / n;
  out.median_rank = Math.floor(median(Array.from(best, (r) => r - 1))) + 1;
  out.mAP = ap / n;
  return out;
}
