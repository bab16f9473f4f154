// The unigram baseline a language model has to beat: the cross-entropy of held-out text under the
// training text's word frequencies (add-one smoothed, so an unseen word costs a finite amount).
// Words: runs of letters or digits, each Chinese character on its own (Chinese has no spaces), and
// each punctuation mark; English is lower-cased. No end-of-text token is counted.

/** The word tokens of a text. */
export function wordTokens(text: string): string[] {
  return (text.toLowerCase().match(/\p{Script=Han}|[\p{L}\p{N}]+|[^\s\p{L}\p{N}]/gu) ?? []).slice();
}

export interface UnigramBaseline {
  readonly trainTokens: number;
  readonly evalTokens: number;
  /** Distinct words of the training text (the vocabulary, without the unknown word). */
  readonly vocabulary: number;
  /** Eval tokens whose word never occurs in training. */
  readonly outOfVocabulary: number;
  /** Cross-entropy of the eval tokens in bits per token: -mean log2 p(w). */
  readonly bitsPerToken: number;
  /** 2 ** bitsPerToken. */
  readonly perplexity: number;
}

/**
 * Add-one (Laplace) smoothed unigram model of `train`, scored on `evaluation`:
 * p(w) = (count(w) + 1) / (N + V + 1), with V the training vocabulary plus one unknown word.
 *
 * @example
 * unigramBaseline(['a a b'], ['a b']).perplexity; // p(a) = 3/6, p(b) = 2/6 → 2 ** -((log2 .5 + log2 (1/3)) / 2) ≈ 2.449
 */
export function unigramBaseline(train: Iterable<string>, evaluation: Iterable<string>, tokenize = wordTokens): UnigramBaseline {
  const counts = new Map<string, number>();
  let trainTokens = 0;
  for (const text of train) {
    for (const token of tokenize(text)) {
      counts.set(token, (counts.get(token) ?? 0) + 1);
      trainTokens += 1;
    }
  }
  const denominator = trainTokens + counts.size + 1;
  let evalTokens = 0;
  let outOfVocabulary = 0;
  let bits = 0;
  for (const text of evaluation) {
    for (const token of tokenize(text)) {
      const count = counts.get(token) ?? 0;
      if (count === 0) outOfVocabulary += 1;
      bits -= Math.log2((count + 1) / denominator);
      evalTokens += 1;
    }
  }
  const bitsPerToken = evalTokens === 0 ? 0 : bits / evalTokens;
  return { trainTokens, evalTokens, vocabulary: counts.size, outOfVocabulary, bitsPerToken, perplexity: 2 ** bitsPerToken };
}
