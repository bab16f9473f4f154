// CIDEr-D as pycocoevalcap's `Cider` computes it (tylin/coco-caption pycocoevalcap/cider/
// cider_scorer.py): tf-idf n-gram vectors (n = 1..4) with document frequencies over the
// references of the evaluated set, idf = log(#images) - log(max(1, df)), clipped dot product
// min(hyp, ref) * ref, Gaussian penalty on the length difference (sigma 6), mean over n and
// references, times 10. The vector "length" is the bigram count, exactly as the reference does.
import { precook, type NgramCounts } from './ngrams';

const N = 4;

/** What CIDEr keeps of one image until the document frequencies are known. */
export interface CiderItem {
  readonly candidate: NgramCounts;
  readonly references: readonly NgramCounts[];
}

/** Cook one image (cider_scorer.py `cook_test` / `cook_refs`). */
export function ciderItem(candidate: readonly string[], references: readonly (readonly string[])[]): CiderItem {
  return { candidate: precook(candidate, N), references: references.map((r) => precook(r, N)) };
}

interface GramStat {
  df: number;
  last: number;
  idf: number;
}

/** counts2vec's norms (each summed in n-gram insertion order) and "length" (the bigram count). */
function normsAndLength(weighted: readonly (readonly { tf: number; idf: number }[])[]): { norm: number[]; length: number } {
  const norm = [0, 0, 0, 0];
  let length = 0;
  weighted.forEach((grams, n) => {
    let sq = 0;
    for (const { tf, idf } of grams) {
      const v = tf * idf;
      sq += v * v;
      if (n === 1) length += tf;
    }
    norm[n] = Math.sqrt(sq);
  });
  return { norm, length };
}

/** `normsAndLength` of a reference, reading each n-gram's idf from its corpus record. */
function refNormsAndLength(counts: NgramCounts, stats: readonly (readonly GramStat[])[]): { norm: number[]; length: number } {
  const norm = [0, 0, 0, 0];
  let length = 0;
  counts.forEach((grams, n) => {
    const row = stats[n]!;
    let sq = 0;
    let k = 0;
    for (const tf of grams.values()) {
      const v = tf * row[k++]!.idf;
      sq += v * v;
      if (n === 1) length += tf;
    }
    norm[n] = Math.sqrt(sq);
  });
  return { norm, length };
}

/**
 * Per-image CIDEr-D scores for a whole evaluated set (cider_scorer.py `compute_score`).
 * A set of one image has idf 0 for every n-gram, so every score is 0 (the reference guards the
 * 0/0 the same way).
 *
 * @example
 * ciderScores([ciderItem(['a'], [['a']])]); // [0]
 */
export function ciderScores(items: readonly CiderItem[], sigma = 6): number[] {
  const refLen = Math.log(items.length);
  // compute_doc_freq: in how many images' reference sets each n-gram occurs. One record per
  // distinct n-gram (`last` counts it once per image); each reference keeps its records in
  // n-gram order, so the big corpus table is searched once per n-gram occurrence.
  const stats = new Map<string, GramStat>();
  const refStats = items.map((item, image) =>
    item.references.map((ref) =>
      ref.map((counts) => {
        const row: GramStat[] = [];
        for (const gram of counts.keys()) {
          let stat = stats.get(gram);
          if (stat === undefined) {
            stat = { df: 0, last: -1, idf: 0 };
            stats.set(gram, stat);
          }
          if (stat.last !== image) {
            stat.last = image;
            stat.df += 1;
          }
          row.push(stat);
        }
        return row;
      }),
    ),
  );
  // counts2vec's weight is tf * (ref_len - log(max(1, df))); the bracket is computed once here.
  for (const stat of stats.values()) stat.idf = refLen - Math.log(Math.max(1, stat.df));
  const twoSigmaSq = 2 * sigma ** 2;
  return items.map((item, image) => {
    // The candidate's n-grams with their idf; an n-gram no reference has gets df 0 → idf ref_len.
    const hypGrams = item.candidate.map((counts) =>
      Array.from(counts, ([gram, tf]) => ({ gram, tf, idf: stats.get(gram)?.idf ?? refLen - Math.log(1) })),
    );
    const hyp = normsAndLength(hypGrams);
    const score = [0, 0, 0, 0];
    item.references.forEach((refCounts, r) => {
      const ref = refNormsAndLength(refCounts, refStats[image]![r]!);
      const delta = hyp.length - ref.length;
      const penalty = Math.pow(Math.E, -(delta ** 2) / twoSigmaSq);
      for (let n = 0; n < N; n++) {
        let val = 0;
        const refN = refCounts[n]!;
        for (const { gram, tf, idf: w } of hypGrams[n]!) {
          const tfRef = refN.get(gram);
          const vr = tfRef === undefined ? 0 : tfRef * w;
          val += Math.min(tf * w, vr) * vr;
        }
        if (hyp.norm[n] !== 0 && ref.norm[n] !== 0) val /= hyp.norm[n]! * ref.norm[n]!;
        score[n]! += val * penalty;
      }
    });
    // np.mean over the 4 orders (sequential for < 8 values), / #refs, * 10, in that order.
    let mean = (score[0]! + score[1]! + score[2]! + score[3]!) / N;
    mean /= item.references.length;
    return mean * 10;
  });
}
