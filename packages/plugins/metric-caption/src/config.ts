// Recipe section of the `caption` metric: which tokeniser prepares captions before scoring.
// Defaults reproduce pycocoevalcap (PTBTokenizer, then BLEU/ROUGE-L/CIDEr-D on its output).
import { z } from 'zod';

/**
 * Config of the caption metric.
 *
 * @example
 * captionConfigSchema.parse({ tokenizer: 'chinese-char' });
 */
export const captionConfigSchema = z
  .object({
    tokenizer: z
      .enum(['ptb', 'chinese-char', 'none'])
      .default('ptb')
      .describe(
        "How captions are split into words: 'ptb' emulates pycocoevalcap's Stanford PTBTokenizer " +
          "(lowercase, punctuation split and removed); 'chinese-char' makes every CJK character a token " +
          "(the toolkit cannot segment Chinese); 'none' splits on spaces only (text already tokenised).",
      ),
    sigma: z
      .number()
      .positive()
      .default(6)
      .describe('Standard deviation of the Gaussian length penalty of CIDEr-D (pycocoevalcap uses 6).'),
  })
  .strict()
  .describe('COCO caption metrics: BLEU-1..4, ROUGE-L, CIDEr-D as pycocoevalcap computes them.');

export type CaptionConfig = z.infer<typeof captionConfigSchema>;
