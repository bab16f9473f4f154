// Streaming statistics of one data file: counts, text lengths (in characters, so Chinese counts
// as written), image sizes and VQA answer frequencies. Memory: a bounded histogram per series
// (Series below), O(distinct answers) for VQA.
import type { TaskKind } from '@mmft/core';
import type { ImageInfo } from './image-check';

/** Summary of a min/mean/percentile series. */
export interface Spread {
  readonly min: number;
  readonly mean: number;
  readonly p50: number;
  readonly p95: number;
  readonly max: number;
}

export interface DataStats {
  readonly file: string;
  readonly task?: TaskKind;
  readonly lines: number;
  readonly records: number;
  readonly rejected: number;
  readonly texts: { readonly count: number; readonly chars?: Spread };
  readonly images: {
    readonly distinct: number;
    readonly width?: Spread;
    readonly height?: Spread;
    readonly formats: Record<string, number>;
  };
  /** Images per record, over the records with at least one (absent when every record has at most one). */
  readonly imagesPerRecord?: Spread;
  readonly answers?: { readonly distinct: number; readonly top: ReadonlyArray<readonly [string, number]>; readonly topShare: number };
}

/** Values below this are counted exactly. */
const EXACT = 4096;
/** Above EXACT, a bucket spans 2^e values with v / 2^e in [EXACT/2, EXACT): relative error < 2/EXACT. */
function bucketOf(value: number): number {
  if (value < EXACT) return value;
  const step = 2 ** (Math.floor(Math.log2(value)) - Math.log2(EXACT / 2));
  return Math.floor(value / step) * step;
}

/**
 * Percentiles from a bounded histogram (an HDR-histogram layout): exact below 4096; above, the
 * smallest value of the bucket, within 0.05 % (a 6000-px image reports 6000), clamped to [min, max]. Memory: 16 KiB
 * plus at most 2048 buckets per power of two that actually occurs.
 */
class Series {
  private readonly exact = new Uint32Array(EXACT);
  /** bucket → count and the smallest value seen in it (exact when a bucket holds one value). */
  private readonly large = new Map<number, { n: number; low: number }>();
  private count = 0;
  private sum = 0;
  private min = Infinity;
  private max = -Infinity;
  add(value: number): void {
    if (value < EXACT) this.exact[Math.max(0, Math.floor(value))]! += 1;
    else {
      const bucket = this.large.get(bucketOf(value));
      if (bucket) ((bucket.n += 1), (bucket.low = Math.min(bucket.low, value)));
      else this.large.set(bucketOf(value), { n: 1, low: value });
    }
    this.count += 1;
    this.sum += value;
    this.min = Math.min(this.min, value);
    this.max = Math.max(this.max, value);
  }
  spread(): Spread | undefined {
    if (this.count === 0) return undefined;
    const large = [...this.large.entries()].sort((a, b) => a[0] - b[0]);
    const at = (q: number) => {
      const clamp = (v: number) => Math.max(this.min, Math.min(v, this.max));
      let seen = 0;
      for (let v = 0; v < EXACT; v += 1) if ((seen += this.exact[v]!) >= q * this.count) return clamp(v);
      for (const [, { n, low }] of large) if ((seen += n) >= q * this.count) return low;
      return this.max;
    };
    return { min: this.min, mean: Math.round((this.sum / this.count) * 10) / 10, p50: at(0.5), p95: at(0.95), max: this.max };
  }
  get size(): number {
    return this.count;
  }
}

/** Accumulates DataStats while the validator streams a file. */
export class StatsAccumulator {
  task?: TaskKind;
  lines = 0;
  records = 0;
  rejected = 0;
  private readonly chars = new Series();
  private readonly widths = new Series();
  private readonly heights = new Series();
  private readonly formats: Record<string, number> = {};
  private readonly answers = new Map<string, number>();
  private readonly perRecord = new Series();
  private several = false;
  constructor(readonly file: string) {}

  /** Count the images of one kept record that has at least one. */
  addImagesPerRecord(n: number): void {
    this.perRecord.add(n);
    if (n > 1) this.several = true;
  }

  addTexts(texts: readonly string[]): void {
    for (const t of texts) {
      let n = 0;
      for (const _ of t) n += 1;
      this.chars.add(n);
    }
  }
  addImage(info: ImageInfo): void {
    if (info.width !== undefined) this.widths.add(info.width);
    if (info.height !== undefined) this.heights.add(info.height);
    const format = info.format ?? 'unknown';
    this.formats[format] = (this.formats[format] ?? 0) + 1;
  }
  addAnswer(answer: string): void {
    const key = answer.trim().toLowerCase();
    this.answers.set(key, (this.answers.get(key) ?? 0) + 1);
  }

  result(): DataStats {
    const total = [...this.answers.values()].reduce((a, b) => a + b, 0);
    const top = [...this.answers.entries()].sort((a, b) => b[1] - a[1]).slice(0, 10);
    return {
      file: this.file,
      ...(this.task ? { task: this.task } : {}),
      lines: this.lines,
      records: this.records,
      rejected: this.rejected,
      texts: { count: this.chars.size, chars: this.chars.spread() },
      images: {
        distinct: Object.values(this.formats).reduce((a, b) => a + b, 0),
        width: this.widths.spread(),
        height: this.heights.spread(),
        formats: { ...this.formats },
      },
      ...(this.several ? { imagesPerRecord: this.perRecord.spread() } : {}),
      ...(total > 0 ? { answers: { distinct: this.answers.size, top, topShare: top[0]![1] / total } } : {}),
    };
  }
}
