// Logits processors on one row of scores, each as transformers' class of the same name does it
// (generation/logits_process.py), and the list in the order GenerationMixin._get_logits_processor
// (generation/utils.py) builds it: repetition penalty, no-repeat n-gram, min length / min new tokens,
// then, only when sampling, temperature, top-k, top-p, min-p. Greedy and sampling run them on float32
// logits; beam search runs them on log-softmax scores.
import type { GenerationLengths, GenerationSettings } from './types';

/** Scores of one row (length V), processed in place; `history` is the row's ids so far, prompt included. */
export type LogitsProcessor = (scores: Float64Array, history: readonly number[]) => void;

/**
 * RepetitionPenaltyLogitsProcessor: each id already in the row (once, however often it occurs) has its
 * score divided by `penalty` when positive and multiplied when negative.
 */
export function repetitionPenalty(scores: Float64Array, history: readonly number[], penalty: number): void {
  for (const id of new Set(history)) {
    if (id < 0 || id >= scores.length) continue;
    const s = scores[id]!;
    scores[id] = s < 0 ? s * penalty : s / penalty;
  }
}

/**
 * NoRepeatNGramLogitsProcessor: the last n−1 ids are a prefix; every earlier n-gram of the row that
 * starts with that prefix bans its last id (−∞). With n = 1 every id seen is banned.
 */
export function noRepeatNgram(scores: Float64Array, history: readonly number[], n: number): void {
  const len = history.length;
  if (len + 1 < n) return;
  const prefixStart = len - (n - 1);
  for (let start = 0; start + n <= len; start++) {
    let same = true;
    for (let j = 0; j < n - 1 && same; j++) same = history[start + j] === history[prefixStart + j];
    if (same) {
      const banned = history[start + n - 1]!;
      if (banned < scores.length) scores[banned] = -Infinity;
    }
  }
}

/** MinLengthLogitsProcessor / MinNewTokensLengthLogitsProcessor: EOS is −∞ while the row is shorter than `minLength`. */
export function banEosBelow(scores: Float64Array, history: readonly number[], minLength: number, eos: readonly number[]): void {
  if (history.length >= minLength) return;
  for (const id of eos) if (id < scores.length) scores[id] = -Infinity;
}

/** TemperatureLogitsWarper. */
export function temperature(scores: Float64Array, t: number): void {
  for (let i = 0; i < scores.length; i++) scores[i] = scores[i]! / t;
}

/**
 * Indices of the `k` largest values, largest first; ties keep the lower index first. One pass with a
 * short sorted list, so a 50 000-id vocabulary costs about V comparisons, not a sort.
 */
export function topKIndices(values: ArrayLike<number>, k: number): number[] {
  const best: number[] = [];
  for (let i = 0; i < values.length; i++) {
    const v = values[i]!;
    if (best.length === k && !(v > values[best[k - 1]!]!)) continue;
    let at = best.length;
    while (at > 0 && v > values[best[at - 1]!]!) at--;
    best.splice(at, 0, i);
    if (best.length > k) best.pop();
  }
  return best;
}

/** TopKLogitsWarper: scores below the k-th largest become −∞ (ties with it stay). */
export function topK(scores: Float64Array, k: number, minTokensToKeep = 1): void {
  const keep = Math.min(Math.max(k, minTokensToKeep), scores.length);
  const kth = scores[topKIndices(scores, keep)[keep - 1]!]!;
  for (let i = 0; i < scores.length; i++) if (scores[i]! < kth) scores[i] = -Infinity;
}

/**
 * TopPLogitsWarper: sorted ascending, ids whose cumulative probability is ≤ 1 − p go (so the most likely
 * ids that reach mass p stay); the `minTokensToKeep` most likely always stay. Among equal scores the lower
 * ids go first (torch.sort leaves their order unspecified).
 */
export function topP(scores: Float64Array, p: number, minTokensToKeep = 1): void {
  // A native sort of the values, then one pass: far cheaper than sorting ids with a comparator.
  const sorted = Float64Array.from(scores).sort();
  const max = sorted[sorted.length - 1]!;
  if (max === -Infinity) return;
  let sum = 0;
  for (const v of sorted) sum += Math.exp(v - max);
  let removed = 0;
  let cumulative = 0;
  while (removed < sorted.length - minTokensToKeep) {
    cumulative += Math.exp(sorted[removed]! - max) / sum;
    if (cumulative > 1 - p) break;
    removed++;
  }
  if (removed === 0) return;
  const threshold = sorted[removed - 1]!;
  let tiesToRemove = 0;
  for (let r = removed - 1; r >= 0 && sorted[r] === threshold; r--) tiesToRemove++;
  for (let i = 0; i < scores.length; i++) {
    if (scores[i]! < threshold) scores[i] = -Infinity;
    else if (scores[i] === threshold && tiesToRemove > 0) {
      scores[i] = -Infinity;
      tiesToRemove--;
    }
  }
}

/** MinPLogitsWarper: ids with probability < minP × (the top probability) go; the `minTokensToKeep` most likely stay. */
export function minP(scores: Float64Array, ratio: number, minTokensToKeep = 1): void {
  const probs = softmax(scores);
  let top = 0;
  for (const q of probs) top = Math.max(top, q);
  const kept = new Set(topKIndices(scores, minTokensToKeep));
  for (let i = 0; i < scores.length; i++) if (probs[i]! < ratio * top && !kept.has(i)) scores[i] = -Infinity;
}

/** softmax in float64; a row of all −∞ gives all zeros. */
export function softmax(scores: ArrayLike<number>): Float64Array {
  let max = -Infinity;
  for (let i = 0; i < scores.length; i++) max = Math.max(max, scores[i]!);
  const out = new Float64Array(scores.length);
  if (max === -Infinity) return out;
  let sum = 0;
  for (let i = 0; i < scores.length; i++) sum += out[i] = Math.exp(scores[i]! - max);
  for (let i = 0; i < out.length; i++) out[i]! /= sum;
  return out;
}

/** log_softmax in float64, as beam search applies it before its processors. */
export function logSoftmax(scores: Float64Array): void {
  let max = -Infinity;
  for (const s of scores) max = Math.max(max, s);
  let sum = 0;
  for (const s of scores) sum += Math.exp(s - max);
  const logSum = max + Math.log(sum);
  for (let i = 0; i < scores.length; i++) scores[i] = scores[i]! - logSum;
}

/**
 * The processors of one generate() call, in `_get_logits_processor`'s order. Sampling warpers keep at
 * least max(2, len(eos) + 1) ids under beam sampling (so a non-EOS continuation survives), else 1.
 *
 * @example
 * const processors = logitsProcessors(settings, { maxLength: 30, minLength: 5 });
 * for (const p of processors) p(scores, history);
 */
export function logitsProcessors(s: GenerationSettings, lengths: GenerationLengths): LogitsProcessor[] {
  const list: LogitsProcessor[] = [];
  if (s.repetitionPenalty !== 1) list.push((x, h) => repetitionPenalty(x, h, s.repetitionPenalty));
  if (s.noRepeatNgramSize > 0) list.push((x, h) => noRepeatNgram(x, h, s.noRepeatNgramSize));
  // min_new_tokens has become min_length = prompt + min_new_tokens (resolveLengths), so one check does both.
  if (lengths.minLength > 0 && s.eosTokenIds.length > 0) list.push((x, h) => banEosBelow(x, h, lengths.minLength, s.eosTokenIds));
  if (s.doSample) {
    const keep = s.numBeams > 1 ? Math.max(2, s.eosTokenIds.length + 1) : 1;
    if (s.temperature !== 1) list.push((x) => temperature(x, s.temperature));
    if (s.topK !== 0) list.push((x) => topK(x, s.topK, keep));
    if (s.topP < 1) list.push((x) => topP(x, s.topP, keep));
    if (s.minP !== undefined) list.push((x) => minP(x, s.minP!, keep));
  }
  return list;
}
