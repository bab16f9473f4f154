// Robust summaries of noisy timings (the project machines are shared): the median and the
// interquartile range, with linear interpolation between order statistics as numpy.percentile.
import type { Timing } from './result';

/** The q-quantile (0..1) of `values`, linear interpolation. */
export function quantile(values: readonly number[], q: number): number {
  if (values.length === 0) return Number.NaN;
  const sorted = [...values].sort((a, b) => a - b);
  const at = (sorted.length - 1) * q;
  const lo = Math.floor(at);
  const hi = Math.ceil(at);
  return sorted[lo]! + (sorted[hi]! - sorted[lo]!) * (at - lo);
}

/**
 * Median, extremes and relative IQR of wall times in milliseconds.
 *
 * @example
 * summarize([10, 12, 11]).medianMs; // 11
 */
export function summarize(ms: readonly number[]): Timing {
  const median = quantile(ms, 0.5);
  return {
    medianMs: median,
    minMs: Math.min(...ms),
    maxMs: Math.max(...ms),
    iqrPercent: median > 0 ? (100 * (quantile(ms, 0.75) - quantile(ms, 0.25))) / median : 0,
    samples: ms.length,
  };
}
