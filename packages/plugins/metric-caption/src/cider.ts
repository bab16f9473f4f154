// CIDEr-D as pycocoevalcap's `Cider` computes it (tylin/coco-caption pycocoevalcap/cider/
// cider_scorer.py): tf-idf n-gram vectors (n = 1..4) with document frequencies over the
// references of the evaluated set, idf = log(#images) - log(max(1, df)), clipped dot product
// min(hyp, ref) * ref, Gaussian penalty on the length difference (sigma 6), mean over n and
// references, times 10. The vector "length" is the bigram count, exactly as the reference does.
import { CookedCorpus, MAX_N } from './ngrams';

const N = MAX_N;

/** One image for `ciderScores`: the tokenised candidate and references. */
export interface CiderItem {
  readonly candidate: readonly string[];
  readonly references: readonly (readonly string[])[];
}

/** One image for `ciderScores`. */
export function ciderItem(candidate: readonly string[], references: readonly (readonly string[])[]): CiderItem {
  return { candidate, references };
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
  const corpus = new CookedCorpus();
  for (const item of items) corpus.addImage(item.candidate, item.references);
  return Array.from(corpusCider(corpus, sigma));
}

/** compute_doc_freq then counts2vec's bracket: idf[id] = ref_len - log(max(1, df)) per n-gram id. */
function idfOf(corpus: CookedCorpus): Float64Array {
  const grams = corpus.grams.data;
  const gramStart = corpus.gramStart.data;
  const imageStart = corpus.imageStart.data;
  const size = corpus.index.size;
  // df: in how many images' reference sets each n-gram occurs; `seenIn` (image + 1, 0 = none)
  // counts it once per image.
  const df = new Int32Array(size);
  const seenIn = new Int32Array(size);
  for (let image = 0; image < corpus.imageCount; image++) {
    const end = gramStart[N * imageStart[image + 1]!]!;
    for (let i = gramStart[N * (imageStart[image]! + 1)]!; i < end; i++) {
      const id = grams[i]!;
      if (seenIn[id] !== image + 1) {
        seenIn[id] = image + 1;
        df[id]! += 1;
      }
    }
  }
  // An n-gram no reference has (df 0) gets log(max(1, 0)) = 0, i.e. idf ref_len. df is at most
  // #images, so one Math.log per df value gives the same numbers as one per n-gram.
  const refLen = Math.log(corpus.imageCount);
  const logs = new Float64Array(corpus.imageCount + 1);
  for (let d = 0; d <= corpus.imageCount; d++) logs[d] = Math.log(Math.max(1, d));
  const idf = new Float64Array(size);
  for (let id = 0; id < size; id++) idf[id] = refLen - logs[df[id]!]!;
  return idf;
}

/**
 * counts2vec's norms of sentence `s` into `norm` (each summed in n-gram insertion order); returns
 * its "length", the bigram count.
 */
function normsOf(corpus: CookedCorpus, s: number, idf: Float64Array, norm: Float64Array): number {
  const grams = corpus.grams.data;
  const counts = corpus.counts.data;
  const gramStart = corpus.gramStart.data;
  let length = 0;
  for (let n = 0; n < N; n++) {
    let sq = 0;
    for (let i = gramStart[N * s + n]!; i < gramStart[N * s + n + 1]!; i++) {
      const v = counts[i]! * idf[grams[i]!]!;
      sq += v * v;
      if (n === 1) length += counts[i]!;
    }
    norm[n] = Math.sqrt(sq);
  }
  return length;
}

/**
 * Per-image CIDEr-D of every image of a cooked corpus (`ciderScores` on its images).
 *
 * @example
 * const corpus = new CookedCorpus(); corpus.addImage(['a'], [['a']]);
 * corpusCider(corpus); // Float64Array [0]
 */
export function corpusCider(corpus: CookedCorpus, sigma = 6): Float64Array {
  const grams = corpus.grams.data;
  const counts = corpus.counts.data;
  const gramStart = corpus.gramStart.data;
  const imageStart = corpus.imageStart.data;
  const idf = idfOf(corpus);
  const twoSigmaSq = 2 * sigma ** 2;
  // One reference's counts scattered by n-gram id, so the hypothesis looks each n-gram up
  // directly; reset to 0 after each reference.
  const refCount = new Int32Array(corpus.index.size);
  const hypNorm = new Float64Array(N);
  const refNorm = new Float64Array(N);
  const scores = new Float64Array(corpus.imageCount);
  for (let image = 0; image < corpus.imageCount; image++) {
    const cand = imageStart[image]!;
    const end = imageStart[image + 1]!;
    const hypLength = normsOf(corpus, cand, idf, hypNorm);
    const score = [0, 0, 0, 0];
    for (let r = cand + 1; r < end; r++) {
      const refLength = normsOf(corpus, r, idf, refNorm);
      const refEnd = gramStart[N * (r + 1)]!;
      for (let i = gramStart[N * r]!; i < refEnd; i++) refCount[grams[i]!] = counts[i]!;
      const delta = hypLength - refLength;
      const penalty = Math.pow(Math.E, -(delta ** 2) / twoSigmaSq);
      for (let n = 0; n < N; n++) {
        // An n-gram the reference lacks adds min(tf * w, 0) * 0 = 0, which leaves the sum as it
        // is, so only shared n-grams are added (in hypothesis order, as the reference does).
        let val = 0;
        for (let i = gramStart[N * cand + n]!; i < gramStart[N * cand + n + 1]!; i++) {
          const tfRef = refCount[grams[i]!]!;
          if (tfRef === 0) continue;
          const w = idf[grams[i]!]!;
          const vr = tfRef * w;
          val += Math.min(counts[i]! * w, vr) * vr;
        }
        if (hypNorm[n] !== 0 && refNorm[n] !== 0) val /= hypNorm[n]! * refNorm[n]!;
        score[n]! += val * penalty;
      }
      for (let i = gramStart[N * r]!; i < refEnd; i++) refCount[grams[i]!] = 0;
    }
    // np.mean over the 4 orders (sequential for < 8 values), / #refs, * 10, in that order.
    let mean = (score[0]! + score[1]! + score[2]! + score[3]!) / N;
    mean /= end - cand - 1;
    scores[image] = mean * 10;
  }
  return scores;
}
