// `precook` of pycocoevalcap (bleu/bleu_scorer.py, cider/cider_scorer.py) for a whole corpus:
// each sentence's distinct 1..4-grams with their counts, in Python's dict insertion order (order
// by order, left to right), which fixes the summation order of CIDEr's norms and dot products.
// Everything lives in flat typed arrays indexed by GramIndex ids, shared by BLEU and CIDEr-D.
import { GramIndex } from './gram-index';
import { grown, IntList } from './int-list';

/** Longest n-gram counted (BLEU-4, CIDEr's n = 4). */
export const MAX_N = 4;
/** Up to this many tokens, repeats within a sentence are found by scanning (cache-resident). */
const SHORT = 48;

/**
 * The cooked sentences of a set of images. Sentence `s` has the token ids
 * `tokens.data[tokenStart.data[s] .. tokenStart.data[s + 1])`; its distinct k-grams are segment
 * `j = MAX_N * s + k - 1`: ids `grams.data[i]` and counts `counts.data[i]` for
 * `i` in `gramStart.data[j] .. gramStart.data[j + 1]`. Image `i` owns sentences
 * `imageStart.data[i]` (its candidate) to `imageStart.data[i + 1] - 1` (its references).
 *
 * @example
 * const corpus = new CookedCorpus();
 * corpus.addImage(['a', 'a'], [['a']]);
 * corpus.counts.data[0]; // 2: the candidate's unigram "a"
 */
export class CookedCorpus {
  readonly index = new GramIndex();
  readonly tokens = new IntList();
  readonly tokenStart = new IntList();
  readonly grams = new IntList();
  readonly counts = new IntList();
  readonly gramStart = new IntList();
  readonly imageStart = new IntList();
  /** Long sentences only: per n-gram id, where it was last put in `grams` (stale unless it is still there). */
  private where = new Int32Array(1024);
  /** Per position of the sentence being cooked: id of the n-gram starting there. */
  private startingAt = new Int32Array(64);

  constructor() {
    this.tokenStart.push(0);
    this.gramStart.push(0);
    this.imageStart.push(0);
  }

  get imageCount(): number {
    return this.imageStart.length - 1;
  }

  /** Cook one image's candidate and references; returns the image's number. */
  addImage(candidate: readonly string[], references: readonly (readonly string[])[]): number {
    this.addSentence(candidate);
    for (const reference of references) this.addSentence(reference);
    this.imageStart.push(this.tokenStart.length - 1);
    return this.imageCount - 1;
  }

  /** Token ids of sentence `s` (a view, not a copy). */
  sentenceTokens(s: number): Int32Array {
    return this.tokens.data.subarray(this.tokenStart.data[s]!, this.tokenStart.data[s + 1]!);
  }

  private addSentence(words: readonly string[]): void {
    const { index, tokens, grams, counts } = this;
    const length = words.length;
    this.startingAt = grown(this.startingAt, length);
    const startingAt = this.startingAt;
    for (let i = 0; i < length; i++) {
      const id = index.token(words[i]!);
      tokens.push(id);
      startingAt[i] = id;
    }
    this.tokenStart.push(tokens.length);
    const first = tokens.length - length;
    for (let k = 1; k <= MAX_N; k++) {
      const segment = grams.length;
      for (let i = 0; i + k <= length; i++) {
        // startingAt[i] is the (k-1)-gram at i; extending it by token i+k-1 gives the k-gram.
        const id = k === 1 ? startingAt[i]! : index.extend(startingAt[i]!, tokens.data[first + i + k - 1]!);
        startingAt[i] = id;
        const at = length <= SHORT ? scan(grams, segment, id) : this.lookUp(segment, id);
        if (at >= 0) {
          counts.data[at]! += 1;
        } else {
          grams.push(id);
          counts.push(1);
        }
      }
      this.gramStart.push(grams.length);
    }
  }

  /** Position of `id` in `grams` from `segment` on, or -1; records where it will be otherwise. */
  private lookUp(segment: number, id: number): number {
    const grams = this.grams;
    if (id >= this.where.length) this.where = grown(this.where, this.index.size);
    const at = this.where[id]!;
    if (at >= segment && at < grams.length && grams.data[at] === id) return at;
    this.where[id] = grams.length;
    return -1;
  }
}

/** Position of `id` in `list` from `from` on, or -1. */
function scan(list: IntList, from: number, id: number): number {
  const data = list.data;
  for (let i = from; i < list.length; i++) if (data[i] === id) return i;
  return -1;
}
