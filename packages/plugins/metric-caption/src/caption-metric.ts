// The streaming caption metric: `update` tokenises and cooks each image at once (BLEU stats,
// ROUGE-L, n-gram counts), `compute` adds the corpus-level parts (BLEU sums, CIDEr-D document
// frequencies) — the split pycocoevalcap/eval.py makes between cooking and `compute_score`.
import { MmftError, type Metric, type MetricReport } from '@mmft/core';
import { bleuStatsFromCounts, corpusBleu, type BleuStats } from './bleu';
import { ciderItem, ciderScores, type CiderItem } from './cider';
import type { CaptionConfig } from './config';
import { numpyMean } from './numpy-sum';
import { rougeL } from './rouge';
import { tokenizerFor } from './tokenizers';

/** One image: its id, the generated caption and its reference captions. */
export interface CaptionUpdate {
  readonly id: string;
  readonly prediction: string;
  readonly references: readonly string[];
}

/**
 * BLEU-1..4, ROUGE-L and CIDEr-D over everything passed to `update` since the last `reset`.
 *
 * @example
 * const m = new CaptionMetric({ tokenizer: 'ptb', sigma: 6 });
 * m.update({ id: '1', prediction: 'A cat.', references: ['a cat', 'the cat sits'] });
 * m.compute().scores.cider;
 */
export class CaptionMetric implements Metric<CaptionUpdate> {
  private readonly tokenize: (caption: string) => string[];
  private ids: string[] = [];
  private seen = new Set<string>();
  private bleu: BleuStats[] = [];
  private rouge: number[] = [];
  private cider: CiderItem[] = [];

  constructor(private readonly config: CaptionConfig) {
    this.tokenize = tokenizerFor(config.tokenizer);
  }

  reset(): void {
    this.ids = [];
    this.seen = new Set();
    this.bleu = [];
    this.rouge = [];
    this.cider = [];
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
      // One n-gram count per sentence serves both BLEU and CIDEr (both use precook, n = 4).
      const cooked = ciderItem(candidate, references);
      this.bleu.push(bleuStatsFromCounts(candidate.length, cooked.candidate, references.map((r) => r.length), cooked.references));
      this.rouge.push(rougeL(candidate, references));
      this.cider.push(cooked);
    }
  }

  compute(): MetricReport {
    if (this.ids.length === 0) {
      throw new MmftError('E_INPUT', 'caption metric: nothing to score (compute() before any update())');
    }
    const [bleu1, bleu2, bleu3, bleu4] = corpusBleu(this.bleu) as [number, number, number, number];
    const cider = ciderScores(this.cider, this.config.sigma);
    const perItem: Record<string, Record<string, number>> = {};
    this.ids.forEach((id, i) => {
      perItem[id] = { cider: cider[i]!, rougeL: this.rouge[i]!, bleu4: corpusBleu([this.bleu[i]!])[3]! };
    });
    return {
      scores: { bleu1, bleu2, bleu3, bleu4, rougeL: numpyMean(this.rouge), cider: numpyMean(cider) },
      perItem,
    };
  }
}
