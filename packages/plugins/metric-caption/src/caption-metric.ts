// The streaming caption metric: `update` tokenises each image, scores its ROUGE-L and cooks its
// n-grams into one corpus (integer ids, flat arrays); `compute` runs the corpus-level parts (BLEU
// clipping and sums, CIDEr-D document frequencies) — the split pycocoevalcap/eval.py makes
// between cooking and `compute_score`.
import { MmftError, type Metric, type MetricReport, type TextInput, type Untagged } from '@mmft/core';
import { corpusBleu, corpusBleuStats } from './bleu';
import { corpusCider } from './cider';
import type { CaptionConfig } from './config';
import { CookedCorpus } from './ngrams';
import { numpyMean } from './numpy-sum';
import { rougeLOf } from './rouge';
import { resolveTokenizer, tokenizerFor, type ResolvedTokenizer } from './tokenizers';

/** One image as `update` takes it: core's `text` input (id, caption, references), `kind` optional. */
export type CaptionUpdate = Untagged<TextInput>;

/** The caption metric's report: the scores plus the tokeniser they were computed with (`chinese-char` reads `char`). */
export interface CaptionReport extends MetricReport {
  readonly tokenizer: ResolvedTokenizer;
}

/**
 * BLEU-1..4, ROUGE-L and CIDEr-D over everything passed to `update` since the last `reset`.
 *
 * @example
 * const m = new CaptionMetric({ tokenizer: 'ptb', sigma: 6 });
 * m.update({ id: '1', prediction: 'A cat.', references: ['a cat', 'the cat sits'] });
 * m.compute().scores.cider; // m.compute().tokenizer === 'ptb'
 */
export class CaptionMetric implements Metric<TextInput> {
  private readonly tokenize: (caption: string) => string[];
  /** Named in the report: scores under different tokenisers are not comparable. */
  readonly tokenizer: ResolvedTokenizer;
  private ids: string[] = [];
  private seen = new Set<string>();
  private rouge: number[] = [];
  /** One n-gram count per sentence serves both BLEU and CIDEr (both use precook, n = 4). */
  private corpus = new CookedCorpus();

  /** What the run summary prints beside the scores. */
  get settings(): Readonly<Record<string, string>> {
    return { tokenizer: this.tokenizer };
  }

  constructor(private readonly config: CaptionConfig) {
    this.tokenizer = resolveTokenizer(config.tokenizer);
    this.tokenize = tokenizerFor(this.tokenizer);
  }

  reset(): void {
    this.ids = [];
    this.seen = new Set();
    this.rouge = [];
    this.corpus = new CookedCorpus();
  }

  update(batch: CaptionUpdate | readonly CaptionUpdate[]): void {
    const items: readonly CaptionUpdate[] = Array.isArray(batch) ? batch : [batch as CaptionUpdate];
    for (const item of items) {
      if (this.seen.has(item.id)) {
        throw new MmftError('E_DATA', `caption metric: id "${item.id}" was given twice`, {
          hint: 'pycocoevalcap scores exactly one caption per image; pass each id once',
        });
      }
      if (item.references.length === 0) {
        throw new MmftError('E_DATA', `caption metric: id "${item.id}" has no reference captions`, {
          hint: 'every image needs at least one reference caption',
        });
      }
      const candidate = this.tokenize(item.prediction);
      const references = item.references.map(this.tokenize);
      this.seen.add(item.id);
      this.ids.push(item.id);
      const corpus = this.corpus;
      const image = corpus.addImage(candidate, references);
      const first = corpus.imageStart.data[image]!;
      const refTokens = references.map((_, r) => corpus.sentenceTokens(first + 1 + r));
      // An empty caption is rouge.py's `''.split(' ')`, one token '': here the id of ''.
      this.rouge.push(rougeLOf(corpus.sentenceTokens(first), refTokens, corpus.index.token('')));
    }
  }

  compute(): CaptionReport {
    if (this.ids.length === 0) {
      throw new MmftError('E_INPUT', 'caption metric: nothing to score (compute() before any update())');
    }
    const bleu = corpusBleuStats(this.corpus);
    const [bleu1, bleu2, bleu3, bleu4] = corpusBleu(bleu) as [number, number, number, number];
    const cider = corpusCider(this.corpus, this.config.sigma);
    const perItem: Record<string, Record<string, number>> = {};
    this.ids.forEach((id, i) => {
      perItem[id] = { cider: cider[i]!, rougeL: this.rouge[i]!, bleu4: corpusBleu([bleu[i]!])[3]! };
    });
    return {
      scores: { bleu1, bleu2, bleu3, bleu4, rougeL: numpyMean(this.rouge), cider: numpyMean(cider) },
      perItem,
      tokenizer: this.tokenizer,
    };
  }
}
