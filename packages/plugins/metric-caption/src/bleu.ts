// BLEU-1..4 as pycocoevalcap computes it (tylin/coco-caption pycocoevalcap/bleu/bleu_scorer.py,
// called by bleu/bleu.py with option 'closest'): clipped n-gram matches summed over the corpus,
// geometric mean with the 1e-15 / 1e-9 guards, brevity penalty from the closest reference length.
import { CookedCorpus, MAX_N } from './ngrams';

const N = MAX_N;
/** bleu_scorer.py `small`: keeps the denominator non-zero. */
const SMALL = 1e-9;
/** bleu_scorer.py `tiny`: keeps the numerator non-zero, so a zero precision gives ~0, not 0/0. */
const TINY = 1e-15;

/** What BLEU keeps of one image (bleu_scorer.py `cook_test` result). */
export interface BleuStats {
  readonly testlen: number;
  /** Length of the reference closest to `testlen` (ties: the shorter one). */
  readonly reflen: number;
  /** Number of k-grams in the candidate, k = 1..4. */
  readonly guess: readonly number[];
  /** Clipped k-gram matches: min(candidate count, max count in any one reference). */
  readonly correct: readonly number[];
}

/**
 * Cook one candidate against its references.
 *
 * @example
 * bleuStats(['a', 'cat'], [['a', 'cat']]).correct; // [2, 1, 0, 0]
 */
export function bleuStats(candidate: readonly string[], references: readonly (readonly string[])[]): BleuStats {
  const corpus = new CookedCorpus();
  corpus.addImage(candidate, references);
  return corpusBleuStats(corpus)[0]!;
}

/**
 * `bleuStats` of every image of a cooked corpus (the caption metric shares the corpus with
 * CIDEr-D). Match counts are integers, so their order of addition cannot change a digit.
 *
 * @example
 * const corpus = new CookedCorpus(); corpus.addImage(['a'], [['a']]);
 * corpusBleuStats(corpus)[0].correct; // [1, 0, 0, 0]
 */
export function corpusBleuStats(corpus: CookedCorpus): BleuStats[] {
  const grams = corpus.grams.data;
  const counts = corpus.counts.data;
  const gramStart = corpus.gramStart.data;
  const tokenStart = corpus.tokenStart.data;
  const imageStart = corpus.imageStart.data;
  // cook_refs keeps, per n-gram, its largest count in any single reference; all 0 between images.
  const maxRef = new Int32Array(corpus.index.size);
  const stats: BleuStats[] = [];
  for (let image = 0; image < corpus.imageCount; image++) {
    const cand = imageStart[image]!;
    const end = imageStart[image + 1]!;
    const testlen = tokenStart[cand + 1]! - tokenStart[cand]!;
    // min((abs(l - testlen), l) for l in reflen)[1]: closest length, the shorter one on a tie.
    let reflen = end > cand + 1 ? tokenStart[cand + 2]! - tokenStart[cand + 1]! : 0;
    for (let s = cand + 1; s < end; s++) {
      const l = tokenStart[s + 1]! - tokenStart[s]!;
      const d = Math.abs(l - testlen);
      const best = Math.abs(reflen - testlen);
      if (d < best || (d === best && l < reflen)) reflen = l;
      for (let i = gramStart[N * s]!; i < gramStart[N * (s + 1)]!; i++) {
        if (counts[i]! > maxRef[grams[i]!]!) maxRef[grams[i]!] = counts[i]!;
      }
    }
    const correct = [0, 0, 0, 0];
    for (let k = 0; k < N; k++) {
      for (let i = gramStart[N * cand + k]!; i < gramStart[N * cand + k + 1]!; i++) {
        correct[k]! += Math.min(maxRef[grams[i]!]!, counts[i]!);
      }
    }
    for (let i = gramStart[N * (cand + 1)]!; i < gramStart[N * end]!; i++) maxRef[grams[i]!] = 0;
    const guess = [1, 2, 3, 4].map((k) => Math.max(0, testlen - k + 1));
    stats.push({ testlen, reflen, guess, correct });
  }
  return stats;
}

/**
 * Corpus BLEU-1..4 from per-image stats (bleu_scorer.py `compute_score`, option 'closest').
 * For one image this is also the sentence-level BLEU used for per-item scores.
 *
 * @example
 * corpusBleu([bleuStats(['a', 'cat'], [['a', 'cat']])])[0]; // ≈ 1
 */
export function corpusBleu(stats: readonly BleuStats[]): number[] {
  let testlen = 0;
  let reflen = 0;
  const guess = [0, 0, 0, 0];
  const correct = [0, 0, 0, 0];
  for (const s of stats) {
    testlen += s.testlen;
    reflen += s.reflen;
    for (let k = 0; k < N; k++) {
      guess[k]! += s.guess[k]!;
      correct[k]! += s.correct[k]!;
    }
  }
  const ratio = (testlen + TINY) / (reflen + SMALL);
  const bleus: number[] = [];
  for (let nn = 1; nn <= N; nn++) {
    let bleu = 1;
    // Same order of operations as the reference: running product, then the nn-th root.
    for (let k = 0; k < nn; k++) bleu *= (correct[k]! + TINY) / (guess[k]! + SMALL);
    bleu = Math.pow(bleu, 1 / nn);
    if (ratio < 1) bleu *= Math.exp(1 - 1 / ratio);
    bleus.push(bleu);
  }
  return bleus;
}
